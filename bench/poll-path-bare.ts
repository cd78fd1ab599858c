/**
 * The poll path's floor: plain undici `Pool` loops posting what the gateway's poller posts (same path,
 * headers and JSON body, to the same emulator) at the same pace, one loop per session, each posting again
 * one advised interval after its answer. It parses each answer and does nothing else: what is left of the
 * gateway's CPU per poll above this is what the gateway adds.
 */
import { Pool } from 'undici';
import packageJson from '../package.json' with { type: 'json' };
import { AUTHORIZATION, TITLE_ID, benchSessionId, upstreamBody } from './workload.js';

export interface BarePollOptions {
  upstreamUrl: string;
  sessions: number;
  /** benchSessionId's prefix: the same session ids the gateway configurations queue. */
  sessionPrefix: string;
  pollIntervalMs: number;
}

export function startBarePollLoops(options: BarePollOptions): { close(): Promise<void> } {
  const origin = new URL(options.upstreamUrl).origin;
  // The gateway's pool (src/gsms/client.ts): 64 keep-alive connections, its timeouts.
  const pool = new Pool(origin, { connections: 64, connect: { timeout: 5_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const path = `/titles/${TITLE_ID}/clusters`;
  const headers = {
    'User-Agent': `gsms-graphql/${packageJson.version}`,
    'Content-Type': 'application/json',
    'x-xbl-contract-version': '1',
    Authorization: AUTHORIZATION,
  };
  let stopped = false;

  const poll = async (sessionId: string): Promise<void> => {
    if (stopped) return;
    try {
      const response = await pool.request({ method: 'POST', path, headers, body: upstreamBody(sessionId) });
      const answer = (await response.body.json()) as { fulfillmentState?: string };
      if (response.statusCode !== 200 || typeof answer.fulfillmentState !== 'string') throw new Error(`unexpected answer ${response.statusCode}`);
    } catch (error) {
      if (!stopped) console.error(`bare poll of ${sessionId} failed: ${(error as Error).message}`);
    }
    if (!stopped) setTimeout(poll, options.pollIntervalMs, sessionId);
  };

  // Spread over one interval, as sessions queued one after another are.
  for (let i = 0; i < options.sessions; i += 1) {
    setTimeout(poll, (i * options.pollIntervalMs) / options.sessions, benchSessionId(i, options.sessionPrefix));
  }
  return {
    async close() {
      stopped = true;
      await pool.close();
    },
  };
}
