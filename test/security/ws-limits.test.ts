/**
 * graphql-ws limits: a socket that never initialises is closed (4408), one connection has a bounded
 * number of operations in flight (TOO_MANY_SUBSCRIPTIONS), one identity a bounded number of connections
 * (4429), and a peer that stops answering pings is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AUTH, OTHER_AUTH, TITLE, sessionPath, startTestGateway, type TestGateway } from '../support/gateway.js';

const FOLLOW = 'subscription($sessionId: String!) { clusterStatus(sessionId: $sessionId) { state } }';
const REQUEST = 'mutation($titleId: ID!, $sessionId: String!) { requestCluster(titleId: $titleId, sessionId: $sessionId) }';

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}

/** A raw graphql-transport-ws socket, to see exactly what the server sends and how it closes. */
async function rawSocket(gw: TestGateway, options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', options);
  const messages: Message[] = [];
  const waiters: { predicate: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as Message;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    socket,
    messages,
    closed,
    send: (message: Message) => socket.send(JSON.stringify(message)),
    next: (predicate: (m: Message) => boolean) =>
      new Promise<Message>((resolve) => {
        const seen = messages.find(predicate);
        if (seen) resolve(seen);
        else waiters.push({ predicate, resolve });
      }),
    /** connection_init, then the answer: `connection_ack`, or the close code. */
    async init(payload: Record<string, unknown>): Promise<'ack' | number> {
      socket.send(JSON.stringify({ type: 'connection_init', payload }));
      const acked = new Promise<'ack'>((resolve) => waiters.push({ predicate: (m) => m.type === 'connection_ack', resolve: () => resolve('ack') }));
      return Promise.race([acked, closed]);
    },
  };
}

let gw: TestGateway;
const sockets: WebSocket[] = [];
const track = <T extends { socket: WebSocket }>(raw: T) => (sockets.push(raw.socket), raw);

beforeAll(async () => {
  gw = await startTestGateway({
    // Capacity 0: every session stays queued, so its subscription stays open.
    emulator: { capacity: 0 },
    env: {
      WS_CONNECTION_INIT_TIMEOUT_MS: '300',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '2',
      WS_MAX_CONNECTIONS_PER_IDENTITY: '2',
      WS_KEEPALIVE_MS: '200',
    },
  });
  for (const name of ['ws-q1', 'ws-q2', 'ws-q3']) {
    expect((await gw.graphql(REQUEST, { titleId: TITLE, sessionId: sessionPath(name) })).data).toEqual({ requestCluster: 'QUEUED' });
  }
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await gw?.close();
});

describe('a socket that never sends connection_init', () => {
  it('is closed with 4408 after WS_CONNECTION_INIT_TIMEOUT_MS', async () => {
    const raw = track(await rawSocket(gw));
    expect(await raw.closed).toBe(4408);
  });
});

describe('operations in flight per connection', () => {
  it('the one over WS_MAX_SUBSCRIPTIONS_PER_CONNECTION gets TOO_MANY_SUBSCRIPTIONS; the socket and the others go on', async () => {
    const raw = track(await rawSocket(gw));
    expect(await raw.init({ authorization: AUTH })).toBe('ack');
    for (const [id, name] of [['1', 'ws-q1'], ['2', 'ws-q2']] as const) {
      raw.send({ id, type: 'subscribe', payload: { query: FOLLOW, variables: { sessionId: sessionPath(name) } } });
      await raw.next((m) => m.id === id && m.type === 'next');
    }
    raw.send({ id: '3', type: 'subscribe', payload: { query: FOLLOW, variables: { sessionId: sessionPath('ws-q3') } } });
    expect(await raw.next((m) => m.id === '3')).toEqual({
      id: '3',
      type: 'error',
      payload: [expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })],
    });
    // Ending one makes room for another on the same socket.
    raw.send({ id: '1', type: 'complete' });
    raw.send({ id: '4', type: 'subscribe', payload: { query: FOLLOW, variables: { sessionId: sessionPath('ws-q3') } } });
    expect(await raw.next((m) => m.id === '4')).toMatchObject({ type: 'next', payload: { data: { clusterStatus: { state: 'QUEUED' } } } });
    expect(raw.socket.readyState).toBe(WebSocket.OPEN);
    raw.socket.close();
    await raw.closed;
  });
});

describe('connections per identity', () => {
  it('the one over WS_MAX_CONNECTIONS_PER_IDENTITY is closed with 4429; other identities are unaffected; closing frees a place', async () => {
    const first = track(await rawSocket(gw));
    const second = track(await rawSocket(gw));
    expect(await first.init({ authorization: AUTH })).toBe('ack');
    expect(await second.init({ Authorization: 'XBL3.0 x=player-one;another-token-same-player' })).toBe('ack');
    const third = track(await rawSocket(gw));
    expect(await third.init({ authorization: AUTH })).toBe(4429);

    const other = track(await rawSocket(gw));
    expect(await other.init({ authorization: OTHER_AUTH })).toBe('ack');

    first.socket.close();
    await first.closed;
    const again = track(await rawSocket(gw));
    expect(await again.init({ authorization: AUTH })).toBe('ack');
    for (const raw of [second, other, again]) raw.socket.close();
    await Promise.all([second.closed, other.closed, again.closed]);
  });
});

describe('idle ping/pong', () => {
  it('a peer that does not answer pings is dropped; one that does stays connected', async () => {
    const silent = track(await rawSocket(gw, { autoPong: false }));
    const lively = track(await rawSocket(gw));
    expect(await silent.init({ authorization: OTHER_AUTH })).toBe('ack');
    expect(await lively.init({ authorization: OTHER_AUTH })).toBe('ack');
    let pings = 0;
    const threePings = new Promise<void>((resolve) => lively.socket.on('ping', () => ++pings === 3 && resolve()));
    // Terminated, not closed: no close frame, so the client sees 1006.
    expect(await silent.closed).toBe(1006);
    await threePings;
    expect(lively.socket.readyState).toBe(WebSocket.OPEN);
    lively.socket.close();
    await lively.closed;
  });
});
