/**
 * Emulators for tests: started on port 0, closed in one place.
 * - `useEmulator(options)` at describe level: one emulator for the block, closed after it.
 * - `startTestEmulator(options)` inside a test: closed when that test finishes.
 * `postCluster` sends one clusters request and reads the answer as a test wants to see it.
 */
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { request } from 'undici';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/gsms/emulator/server.js';

export const TEST_AUTHORIZATION = 'XBL3.0 x=user1;token-abc';
export const TEST_SCID = '5a1b2c3d-0000-4000-8000-00000000abcd';

/** One emulator for the enclosing describe; call the returned function inside tests to get it. */
export function useEmulator(options?: Partial<EmulatorOptions>): () => RunningEmulator {
  let emulator: RunningEmulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator(options);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return () => {
    if (!emulator) throw new Error('useEmulator: the emulator is started in beforeAll; call this inside a test');
    return emulator;
  };
}

/** An emulator for one test, closed when the test finishes (pass or fail). */
export async function startTestEmulator(options?: Partial<EmulatorOptions>): Promise<RunningEmulator> {
  const emulator = await startEmulator(options);
  onTestFinished(() => emulator.close());
  return emulator;
}

/** The canonical path of a test session (what the emulator keys requests by). */
export function sessionPath(name: string, scid = TEST_SCID, template = 'quick'): string {
  return `/serviceconfigs/${scid}/sessiontemplates/${template}/sessions/${name}`;
}

export interface PostClusterInput {
  titleId?: string | number;
  /** An object is sent as JSON; a string or Buffer as is. Default: `{ sessionId: sessionPath('s1') }`. */
  body?: unknown;
  /** `null` sends no Authorization header. Default: TEST_AUTHORIZATION. */
  authorization?: string | null;
  headers?: Record<string, string>;
  method?: string;
  /** Overrides `/titles/{titleId}/clusters`. */
  path?: string;
}

export interface ClusterResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body (undefined when it is not JSON); `any` because tests read whatever members they check. */
  body: any;
}

export async function postCluster(emulator: RunningEmulator, input: PostClusterInput = {}): Promise<ClusterResponse> {
  const { titleId = 1234, authorization = TEST_AUTHORIZATION, method = 'POST' } = input;
  const raw = input.body === undefined ? { sessionId: sessionPath('s1') } : input.body;
  const body = typeof raw === 'string' || Buffer.isBuffer(raw) ? raw : JSON.stringify(raw);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-xbl-contract-version': '1', ...input.headers };
  if (authorization !== null) headers.authorization = authorization;
  const sendsBody = method !== 'GET' && method !== 'HEAD';
  const response = await request(`${emulator.url}${input.path ?? `/titles/${titleId}/clusters`}`, {
    method: method as 'POST',
    headers,
    body: sendsBody ? body : undefined,
  });
  const text = await response.body.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, body: parsed };
}

/** Posts a session until the answer's state is `state`, within a deadline (for lifetime-driven changes). */
export async function postUntilState(
  emulator: RunningEmulator,
  input: PostClusterInput,
  state: string,
  { deadlineMs = 5000, everyMs = 20 }: { deadlineMs?: number; everyMs?: number } = {},
): Promise<ClusterResponse> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const response = await postCluster(emulator, input);
    if (response.body?.fulfillmentState === state) return response;
    if (Date.now() > deadline) throw new Error(`still ${response.body?.fulfillmentState ?? response.status} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
