/**
 * Thrown by the shared registry, pub/sub or leases when Redis cannot be reached: the server maps it to the
 * `REGISTRY_UNAVAILABLE` error code, so callers get a clear, retryable answer instead of a masked one.
 */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
  constructor(cause: unknown) {
    super('The shared cluster registry (Redis) is unreachable.', { cause });
  }
}

/** Runs a Redis call, turning any connection failure into RegistryUnavailableError. */
export async function whileReachable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    // A ReplyError is Redis refusing a command (a bug here), not Redis being away: let it be masked as one.
    if (error instanceof RegistryUnavailableError || (error instanceof Error && error.name === 'ReplyError')) throw error;
    throw new RegistryUnavailableError(error);
  }
}
