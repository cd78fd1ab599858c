/** Holds deliveries until they are delivered or failed, and runs their retries on schedule. */
import type { DeliveryJob } from './delivery-attempt.js';

export interface DeliveryQueue {
  /** Adds a delivery; adding one whose id is already queued (or done) does nothing. */
  enqueue(job: DeliveryJob): Promise<void>;
  /** Deliveries waiting or in flight, for `gsms_webhook_pending`. */
  pendingCount(): Promise<number>;
  close(): Promise<void>;
}
