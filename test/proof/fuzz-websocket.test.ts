/**
 * Fuzzing graphql-ws at /graphql: random frames (bytes, text, message-shaped JSON) on a raw WebSocket, and
 * random subscribe payloads on an acknowledged connection. The server may close a bad connection with a
 * graphql-ws close code, but never with an internal error, never echoes the token, gives every error an
 * `extensions.code`, and keeps serving new connections.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket, { type RawData } from 'ws';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { documentArb, SECRET_TOKEN, sessionIdArb, variablesArb } from './arbitraries.js';
import { startProofGateway, type ProofGateway } from './proof-gateway.js';

const AUTHORIZATION = `XBL3.0 x=ws-fuzzer;${SECRET_TOKEN}`;
/** graphql-ws's own close codes for a misbehaving client, plus the normal ones. 4500 (internal error) is not here. */
const ACCEPTABLE_CLOSE_CODES = new Set([1000, 1001, 1002, 1003, 1005, 1007, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4499]);


let emulator: RunningEmulator;
let gateway: ProofGateway;
let consoleErrors: unknown[][] = [];
beforeAll(async () => {
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void consoleErrors.push(args));
  emulator = await startEmulator({ capacity: 1_000_000, pollIntervalMs: 1000 });
  gateway = await startProofGateway(emulator.url);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await gateway?.close();
  await emulator?.close();
});

/** Nothing is printed as an internal error, whatever a client sends (a server-only message type is a 4400). */
function expectNothingPrinted(): void {
  expect(consoleErrors).toEqual([]);
  consoleErrors = [];
}

interface Conversation {
  messages: { type?: unknown; id?: unknown; payload?: unknown }[];
  rawTexts: string[];
  closeCode: number | null;
  closeReason: string;
}

const INIT = JSON.stringify({ type: 'connection_init', payload: { authorization: AUTHORIZATION } });

/**
 * Opens a socket, optionally initialises it and waits for the ack (as the protocol asks of a client), sends
 * the frames, then a ping, and waits for the pong (the server read everything before it), for the server to
 * close the socket, or for `waitFor`.
 */
async function converse(
  frames: (string | Buffer)[],
  options: { protocol?: string | null; init?: boolean; waitFor?: (c: Conversation) => boolean } = {},
): Promise<Conversation> {
  const protocol = options.protocol === undefined ? 'graphql-transport-ws' : options.protocol;
  const socket = new WebSocket(gateway.wsUrl, protocol === null ? [] : [protocol]);
  const conversation: Conversation = { messages: [], rawTexts: [], closeCode: null, closeReason: '' };
  const done = (c: Conversation) => (options.waitFor ? options.waitFor(c) : c.messages.some((m) => m.type === 'pong'));
  let opened = false;
  const sendFrames = () => {
    for (const frame of frames) socket.send(frame);
    if (!options.waitFor) socket.send(JSON.stringify({ type: 'ping' }));
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no pong and no close within 5 s; got ${JSON.stringify(conversation.rawTexts).slice(0, 500)}`));
    }, 5_000);
    const finish = () => {
      clearTimeout(timer);
      resolve(conversation);
    };
    socket.on('error', () => {});
    socket.on('open', () => {
      opened = true;
      if (options.init) socket.send(INIT);
      else sendFrames();
    });
    socket.on('message', (data: RawData) => {
      const text = data.toString();
      conversation.rawTexts.push(text);
      const message = JSON.parse(text) as Conversation['messages'][number];
      conversation.messages.push(message);
      if (options.init && message.type === 'connection_ack') sendFrames();
      else if (done(conversation)) {
        socket.close(1000);
        socket.once('close', finish);
      }
    });
    socket.on('close', (code, reason) => {
      // A refused handshake (e.g. a subprotocol the server does not speak) never opens: ws reports 1006.
      conversation.closeCode ??= opened ? code : 1000;
      conversation.closeReason = reason.toString();
      finish();
    });
  });
}

function problemsIn(conversation: Conversation): string[] {
  const problems: string[] = [];
  const { closeCode, closeReason } = conversation;
  if (closeCode !== null && !ACCEPTABLE_CLOSE_CODES.has(closeCode)) {
    problems.push(`closed with ${closeCode} ${closeReason}`);
  }
  // A pong carries back the ping's own payload to the same socket (graphql-ws protocol), so it is not counted.
  const echoes = conversation.rawTexts.filter((text, i) => conversation.messages[i]?.type !== 'pong' && text.includes(SECRET_TOKEN));
  if (echoes.length > 0) problems.push(`a message echoes the token: ${echoes[0]!.slice(0, 200)}`);
  for (const message of conversation.messages) {
    const errors =
      message.type === 'error' ? (message.payload as unknown[]) : message.type === 'next' ? ((message.payload as { errors?: unknown[] }).errors ?? []) : [];
    for (const error of errors as { extensions?: { code?: unknown } }[]) {
      const code = error.extensions?.code;
      if (typeof code !== 'string' || code === 'INTERNAL_SERVER_ERROR') problems.push(`error without a clear code: ${JSON.stringify(error).slice(0, 200)}`);
    }
  }
  return problems;
}

const messageTypeArb = fc.constantFrom('connection_init', 'connection_ack', 'subscribe', 'next', 'error', 'complete', 'ping', 'pong', 'start', 'stop', '', 'SUBSCRIBE');
const messageArb = fc
  .record(
    {
      type: fc.oneof(messageTypeArb, fc.jsonValue()),
      id: fc.oneof(fc.string({ maxLength: 8 }), fc.jsonValue()),
      payload: fc.oneof(
        fc.record({ query: fc.oneof(documentArb, fc.jsonValue()), variables: variablesArb, operationName: fc.jsonValue(), extensions: fc.jsonValue() }, { requiredKeys: [] }),
        fc.record({ authorization: fc.constantFrom(AUTHORIZATION, 'XBL3.0 nope', ''), 'x-api-key': fc.string({ maxLength: 10 }) }, { requiredKeys: [] }),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  )
  .map((message) => JSON.stringify(message));
const frameArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  messageArb,
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
);

describe('random frames on a WebSocket to /graphql', () => {
  it('are answered with a graphql-ws close code or coded errors, never an internal error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.constantFrom<string | null | undefined>(undefined, undefined, undefined, 'graphql-ws', 'nonsense', null),
        async (frames, initFirst, protocol) => {
          const conversation = await converse(frames, { protocol, init: initFirst && protocol === undefined });
          expect(problemsIn(conversation)).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
    expectNothingPrinted();
  });

  it('random subscribe payloads on an acknowledged connection each end in a result or a coded error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ query: documentArb, variables: variablesArb }),
            sessionIdArb.map((s) => ({ query: 'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }', variables: { s } })),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (payloads) => {
          const frames = payloads.map((payload, i) => JSON.stringify({ type: 'subscribe', id: `s${i}`, payload }));
          const finished = (c: Conversation) =>
            payloads.every((_, i) => c.messages.some((m) => m.id === `s${i}` && (m.type === 'complete' || m.type === 'error')));
          const conversation = await converse(frames, { init: true, waitFor: finished });
          expect(problemsIn(conversation)).toEqual([]);
          // A payload graphql-ws itself refuses (a non-object variables) closes the socket with 4400; else all finish.
          if (conversation.closeCode !== 4400) expect(finished(conversation), JSON.stringify(conversation)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expectNothingPrinted();
  });

  it('a message only a server may send is a 4400 from the client, not an internal error', async () => {
    const wellFormed = { next: { id: 'x', payload: {} }, error: { id: 'x', payload: [{ message: 'x' }] }, connection_ack: {} };
    for (const [type, fields] of Object.entries(wellFormed)) {
      const conversation = await converse([JSON.stringify({ type, ...fields })], { init: true });
      expect([conversation.closeCode, conversation.closeReason]).toEqual([4400, `Unexpected message of type ${type} received`]);
    }
    expectNothingPrinted();
  });

  it('the gateway still serves HTTP and WebSocket callers afterwards', async () => {
    expect(await gateway.graphql('{ __typename }', undefined, null)).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    const conversation = await converse([], { init: true });
    expect(conversation.messages.map((m) => m.type)).toEqual(['connection_ack', 'pong']);
  });
});
