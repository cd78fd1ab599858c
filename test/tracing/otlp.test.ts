/**
 * Traces, end to end: a gateway process exporting to a real OTLP/HTTP receiver (JSON protocol) on loopback,
 * in front of an emulator that fails the first attempts. And the other side: with no OTLP endpoint, not one
 * OpenTelemetry module is loaded.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/gsms/emulator/server.js';
import { AUTH, sessionPath } from '../support/gateway.js';
import { deleteKeys, sharedRedis, uniquePrefix } from '../support/redis.js';
import { startGatewayProcess, stopAllGatewayProcesses, type GatewayProcess } from '../support/gateway-process.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

const CHECKER = join(import.meta.dirname, 'loaded-modules.mjs');
const REQUEST_CLUSTER = 'mutation RequestCluster($sessionId: String!) { requestCluster(titleId: "1234567890", sessionId: $sessionId) }';
const TOKEN = AUTH.slice('XBL3.0 '.length);
// Gateway processes start slowly on a busy machine, the SDK's modules more so.
const START_TIMEOUT_MS = 60_000;

let emulator: RunningEmulator;
let receiver: OtlpReceiver;
let reports: string;

beforeAll(async () => {
  emulator = await startEmulator({ pollIntervalMs: 200 });
  receiver = await startOtlpReceiver();
  reports = await mkdtemp(join(tmpdir(), 'otel-modules-'));
});
afterAll(async () => {
  await stopAllGatewayProcesses();
  await Promise.all([emulator?.close(), receiver?.close(), reports && rm(reports, { recursive: true, force: true })]);
});

function tracedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GSMS_BASE_URL: emulator.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'gsms-graphql-under-test',
    // Export within a few milliseconds of a span ending, so the test awaits spans rather than a batch timer.
    OTEL_BSP_SCHEDULE_DELAY: '20',
    ...extra,
  };
}

async function post(url: string, body: object, headers: Record<string, string>) {
  const response = await request(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTH, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as { data?: unknown; errors?: unknown[] } };
}

function traceparent(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

/** Whether `span` descends from `ancestor` through parent links among `spans`. */
function descendsFrom(span: ReceivedSpan, ancestor: ReceivedSpan, spans: readonly ReceivedSpan[]): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) {
    if (parent.spanId === ancestor.spanId) return true;
  }
  return false;
}

/** The traceparent header of each request the emulator (in this process) receives. */
function recordUpstreamTraceparents(): { values: string[]; stop(): void } {
  const values: string[] = [];
  const onStart = (message: unknown) => {
    const { request: incoming } = message as { request: IncomingMessage };
    if (incoming.url?.startsWith('/titles/')) values.push(String(incoming.headers.traceparent ?? ''));
  };
  subscribe('http.server.request.start', onStart);
  return { values, stop: () => unsubscribe('http.server.request.start', onStart) };
}

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', { timeout: 90_000 }, () => {
  // One gateway for the tests that need nothing else of their own.
  let traced: GatewayProcess;
  beforeAll(async () => {
    traced = await startGatewayProcess(tracedEnv(), START_TIMEOUT_MS);
  }, START_TIMEOUT_MS);

  it('one mutation through a faulty upstream is one trace: the caller’s trace id, an operation span, and a child span per attempt', async () => {
    const upstream = recordUpstreamTraceparents();
    const sent = traceparent();
    // Two retryable answers first (Retry-After 0), so the mutation takes three attempts.
    emulator.injectFaults([503, 500], '0');
    const answer = await post(traced.url, { query: REQUEST_CLUSTER, variables: { sessionId: sessionPath(`otel-${sent.traceId}`) } }, { traceparent: sent.header });
    upstream.stop();
    expect(answer.body.errors).toBeUndefined();

    const spans = await receiver.waitFor(
      (all) => all.filter((s) => s.traceId === sent.traceId && s.attributes['gsms.attempt'] !== undefined).length >= 3 && all.some((s) => s.traceId === sent.traceId && s.name === 'mutation.RequestCluster'),
    );
    const trace = spans.filter((s) => s.traceId === sent.traceId);

    // The request's server span continues the caller's trace, under the caller's span.
    const server = trace.find((s) => s.parentSpanId === sent.parentId);
    expect(server, 'a span whose parent is the caller’s').toBeDefined();
    expect(server!.resource['service.name']).toBe('gsms-graphql-under-test');

    const operation = trace.find((s) => s.name === 'mutation.RequestCluster')!;
    expect(operation.attributes['graphql.execute.operationName']).toBe('RequestCluster');
    expect(operation.attributes['graphql.execute.operationType']).toBe('mutation');
    expect(descendsFrom(operation, server!, trace)).toBe(true);

    const attempts = trace.filter((s) => s.attributes['gsms.attempt'] !== undefined).sort((a, b) => Number(a.attributes['gsms.attempt']) - Number(b.attributes['gsms.attempt']));
    expect(attempts.map((s) => s.attributes['gsms.attempt'])).toEqual([1, 2, 3]);
    expect(attempts.map((s) => s.attributes['http.response.status_code'])).toEqual([503, 500, 200]);
    for (const attempt of attempts) {
      expect(attempt.parentSpanId, `attempt ${attempt.attributes['gsms.attempt']} is a child of the operation`).toBe(operation.spanId);
      expect(attempt.attributes['gsms.correlation_id']).toMatch(/^[0-9a-f-]{36}$/);
    }

    // Each attempt carried its own span as the traceparent GSMS received.
    expect(upstream.values).toEqual(attempts.map((s) => `00-${sent.traceId}-${s.spanId}-01`));

    // The token is sent upstream and never exported: not in any attribute, event or resource.
    expect(receiver.raw.join('\n')).not.toContain(TOKEN);
    // Traces only: no metrics or logs pushed at the endpoint.
    expect(receiver.otherPaths).toEqual([]);
  });

  it('each poll of a queued session is a span named by the session, its upstream attempts as children', async () => {
    const sent = traceparent();
    const sessionId = sessionPath(`otel-poll-${sent.traceId}`);
    emulator.setCapacity(0);
    try {
      const answer = await post(traced.url, { query: REQUEST_CLUSTER, variables: { sessionId } }, { traceparent: sent.header });
      expect(answer.body).toEqual({ data: { requestCluster: 'QUEUED' } });
      const isPoll = (s: ReceivedSpan) => s.name === 'gsms.poll' && s.attributes['gsms.session_id'] === sessionId;
      const spans = await receiver.waitFor((all) => {
        const polls = all.filter(isPoll);
        return polls.length >= 2 && polls.every((poll) => all.some((s) => s.parentSpanId === poll.spanId));
      });
      const polls = spans.filter(isPoll);
      for (const poll of polls) {
        expect(poll.attributes['gsms.title_id']).toBe('1234567890');
        // Its own trace, not the request's: a trace per session would grow for as long as it waits.
        expect(poll.parentSpanId).toBe('');
        expect(poll.traceId).not.toBe(sent.traceId);
        const attempts = spans.filter((s) => s.parentSpanId === poll.spanId);
        expect(attempts.map((s) => [s.attributes['gsms.attempt'], s.attributes['http.response.status_code']])).toEqual([[1, 200]]);
      }
      // The first poll links back to the request that queued the session.
      expect(polls.flatMap((poll) => poll.links).some((link) => link.traceId === sent.traceId)).toBe(true);
      // Polls post the stored credential: it is not exported either.
      expect(receiver.raw.join('\n')).not.toContain(TOKEN);
    } finally {
      emulator.setCapacity(2);
    }
  });

  it('in Redis mode, the request’s Redis commands are spans in its trace, named without their values', async () => {
    const redis = await sharedRedis();
    const prefix = uniquePrefix('otel');
    const gateway = await startGatewayProcess(
      tracedEnv({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, GSMS_CREDENTIAL_KEY: randomBytes(32).toString('base64') }),
      START_TIMEOUT_MS,
    );
    try {
      const sent = traceparent();
      const answer = await post(gateway.url, { query: REQUEST_CLUSTER, variables: { sessionId: sessionPath(`otel-redis-${sent.traceId}`) } }, { traceparent: sent.header });
      expect(answer.body.errors).toBeUndefined();
      const isRedis = (s: ReceivedSpan) => s.traceId === sent.traceId && s.attributes['db.system.name'] === 'redis';
      const spans = await receiver.waitFor((all) => all.some(isRedis) && all.some((s) => s.traceId === sent.traceId && s.name === 'mutation.RequestCluster'));
      const server = spans.find((s) => s.traceId === sent.traceId && s.parentSpanId === sent.parentId)!;
      const operation = spans.find((s) => s.traceId === sent.traceId && s.name === 'mutation.RequestCluster')!;
      const commands = spans.filter(isRedis);
      for (const command of commands) {
        // The rate limiter counts before the operation runs (under the request's span); the registry's under the operation.
        expect(descendsFrom(command, server, spans)).toBe(true);
        // The command and at most its first argument (a key or a script's sha): values hold sealed credentials.
        expect(String(command.attributes['db.query.text']).split(' ').length).toBeLessThanOrEqual(2);
      }
      expect(commands.some((command) => descendsFrom(command, operation, spans))).toBe(true);
      expect(receiver.raw.join('\n')).not.toContain(TOKEN);
    } finally {
      await gateway.stop();
      await deleteKeys(redis.url, prefix);
      await redis.dispose();
    }
  });

  it('a subscription over graphql-ws still delivers every state, and is one span from subscribe to end', async () => {
    const sessionId = sessionPath(`otel-ws-${randomBytes(4).toString('hex')}`);
    emulator.setCapacity(0);
    try {
      expect((await post(traced.url, { query: REQUEST_CLUSTER, variables: { sessionId } }, {})).body).toEqual({ data: { requestCluster: 'QUEUED' } });
      const states: string[] = [];
      const client = traced.wsClient();
      await new Promise<void>((resolve, reject) => {
        client.subscribe<{ clusterStatus: { state: string } }>(
          { query: 'subscription Follow($s: String!) { clusterStatus(sessionId: $s) { state } }', variables: { s: sessionId } },
          {
            next: (result) => {
              const state = result.data?.clusterStatus.state;
              if (state) states.push(state);
              if (state === 'QUEUED') emulator.setCapacity(2);
            },
            error: reject,
            complete: resolve,
          },
        );
      });
      expect(states.at(-1)).toBe('FULFILLED');
      await receiver.waitFor((all) => all.some((s) => s.name === 'subscription.Follow'));
    } finally {
      emulator.setCapacity(2);
    }
  });

  it('a failed operation’s span carries its errors’ codes', async () => {
    const sent = traceparent();
    const answer = await post(traced.url, { query: 'mutation { requestCluster(titleId: "1234567890", sessionId: "not a session") }' }, { traceparent: sent.header });
    const codes = (answer.body.errors as { extensions: { code: string } }[]).map((e) => e.extensions.code);
    expect(codes.length).toBeGreaterThan(0);
    const spans = await receiver.waitFor((all) => all.some((s) => s.traceId === sent.traceId && s.attributes['graphql.error.codes'] !== undefined));
    const operation = spans.find((s) => s.traceId === sent.traceId && s.attributes['graphql.error.codes'] !== undefined)!;
    expect(operation.attributes['graphql.error.codes']).toEqual([...new Set(codes)]);
    expect(operation.status.code).toBe(2);
    expect(receiver.raw.join('\n')).not.toContain(TOKEN);
  });

  it('SIGTERM flushes the spans still batched', async () => {
    // A batch delay far past the test: only the shutdown flush can deliver the span.
    // And with no OTEL_SERVICE_NAME, the service is named after the package.
    const report = join(reports, 'traced.json');
    const gateway = await startGatewayProcess(
      tracedEnv({ OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_SERVICE_NAME: '', NODE_OPTIONS: `--import=${CHECKER}`, LOADED_MODULES_REPORT: report }),
      START_TIMEOUT_MS,
    );
    const sent = traceparent();
    await post(gateway.url, { query: '{ __typename }' }, { traceparent: sent.header });
    expect(receiver.spans.some((s) => s.traceId === sent.traceId)).toBe(false);
    await gateway.stop();
    const flushed = receiver.spans.filter((s) => s.traceId === sent.traceId);
    expect(flushed.map((s) => s.name)).toContain('query.anonymous');
    expect(flushed[0]!.resource['service.name']).toBe('gsms-graphql');
    // The module checker works: this gateway did load the SDK (the unset test relies on it seeing none).
    expect(JSON.parse(await readFile(report, 'utf8'))).toEqual(expect.arrayContaining([expect.stringContaining('@opentelemetry/sdk-node')]));
  });

  it('SIGTERM does not wait on a collector that never answers for more than the flush limit', async () => {
    // Accepts connections and never answers a byte.
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const gateway = await startGatewayProcess(tracedEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '600000' }), START_TIMEOUT_MS);
      await post(gateway.url, { query: '{ __typename }' }, {});
      const stoppedAt = performance.now();
      await gateway.stop();
      // 5 s flush limit, plus the app's own stop on a busy machine.
      const stopMs = performance.now() - stoppedAt;
      expect(stopMs).toBeLessThan(9_000);
      expect(sockets.size, 'the exporter did reach the silent collector').toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('exports in the default protocol, http/protobuf, too', async () => {
    const env = tracedEnv({ OTEL_BSP_SCHEDULE_DELAY: '600000' });
    delete env.OTEL_EXPORTER_OTLP_PROTOCOL;
    const gateway = await startGatewayProcess(env, START_TIMEOUT_MS);
    await post(gateway.url, { query: '{ __typename }' }, {});
    await gateway.stop();
    expect(receiver.binary).toEqual([{ contentType: 'application/x-protobuf', bytes: expect.any(Number) }]);
    expect(receiver.binary[0]!.bytes).toBeGreaterThan(100);
  });
});

describe('with no OTLP endpoint', { timeout: 90_000 }, () => {
  it('loads no OpenTelemetry module at all', async () => {
    const report = join(reports, 'untraced.json');
    const gateway = await startGatewayProcess({ GSMS_BASE_URL: emulator.url, NODE_OPTIONS: `--import=${CHECKER}`, LOADED_MODULES_REPORT: report }, START_TIMEOUT_MS);
    const answer = await post(gateway.url, { query: REQUEST_CLUSTER, variables: { sessionId: sessionPath('otel-unset') } }, {});
    expect(answer.body.errors).toBeUndefined();
    await gateway.stop();
    const loaded = JSON.parse(await readFile(report, 'utf8')) as string[];
    // prom-client (the /metrics registry) requires the OpenTelemetry API for exemplars whatever we do: a facade
    // that does nothing until an SDK registers. Anything else would be tracing loaded when it was not asked for.
    expect(loaded.filter((entry) => !/^@opentelemetry\/api <- .*[\\/]node_modules[\\/]prom-client[\\/]/.test(entry))).toEqual([]);
  });
});
