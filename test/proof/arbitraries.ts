/**
 * fast-check generators for the fuzz tests: ids and credentials that are sometimes right and mostly wrong,
 * GraphQL documents broken in every way, and whole HTTP requests. Each generator mixes well-formed values
 * in, so the properties also walk the happy path and check its result.
 */
import fc from 'fast-check';

export const SECRET_TOKEN = 'fuzz-secret-token-7f3a';

const SCID = fc.uuid();
const segment = fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' }).filter((s) => !s.includes('/'));

/** Title ids: decimal, hex, out of range, signed, padded, or anything. */
export const titleIdArb: fc.Arbitrary<string> = fc.oneof(
  fc.nat({ max: 0xffff_ffff }).map(String),
  fc.nat({ max: 0xffff_ffff }).map((n) => `0x${n.toString(16)}`),
  fc.nat({ max: 0xffff_ffff }).map((n) => `0X${n.toString(16).toUpperCase()}`),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.integer().map(String),
  fc.constantFrom('', ' ', '0x', '0x123456789', '1e3', '12.5', '-0', '١٢٣', '\u0000', '4294967296', '00000000001234'),
  fc.string({ maxLength: 40, unit: 'binary' }),
);

/** Session paths: every accepted spelling, near misses, and noise. */
export const sessionIdArb: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(SCID, fc.mixedCase(fc.constant('sessiontemplates')), fc.constantFrom('session', 'sessions'), segment, segment)
    .map(([scid, templates, sessions, template, name]) => `/serviceconfigs/${scid}/${templates}/${template}/${sessions}/${name}`),
  fc.tuple(SCID, segment).map(([scid, name]) => `/serviceconfigs/${scid.toUpperCase()}/sessionTemplates/t/sessions/${name}`),
  fc.tuple(SCID, segment).map(([scid, name]) => `/serviceconfigs/${scid}/sessiontemplates/t/sessions/${name}/extra`),
  fc.tuple(SCID, fc.nat({ max: 2000 })).map(([scid, n]) => `/serviceconfigs/${scid}/sessiontemplates/t/sessions/${'n'.repeat(n)}`),
  fc.constantFrom('', '/', '/serviceconfigs//sessiontemplates//sessions/', '../../etc/passwd', '/serviceconfigs/not-a-guid/sessiontemplates/t/sessions/s'),
  fc.string({ maxLength: 80, unit: 'binary' }),
);

/** Printable ASCII, as HTTP header values must be (a client library refuses anything else). */
const headerText = (maxLength: number) => fc.string({ maxLength, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });

/** `Authorization` values: valid XBL3.0 (with the one secret token), near misses, other schemes, none. */
export const authorizationArb: fc.Arbitrary<string | null> = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,12}$/).map((hash) => `XBL3.0 x=${hash};${SECRET_TOKEN}`),
  fc.constantFrom(
    null,
    '',
    'XBL3.0',
    'XBL3.0 x=',
    'XBL3.0 x=;',
    `XBL3.0 x=;${SECRET_TOKEN}`,
    'XBL3.0 x=user;',
    `xbl3.0 x=user;${SECRET_TOKEN}`,
    `XBL2.0 x=user;${SECRET_TOKEN}`,
    `Bearer ${SECRET_TOKEN}`,
    `Basic ${Buffer.from(`user:${SECRET_TOKEN}`).toString('base64')}`,
  ),
  headerText(60).map((noise) => `XBL3.0 x=${noise}`),
  headerText(60),
);

const GRAPHQL_TOKENS = [
  '{', '}', '(', ')', '[', ']', ':', '$', '!', '=', '@', '...', '|', '&', ',', '"', '"""', '#',
  'query', 'mutation', 'subscription', 'fragment', 'on', 'true', 'false', 'null',
  'requestCluster', 'cluster', 'clusters', 'clusterStatus', 'state', 'sessionId', 'titleId', 'abortIfQueued',
  'hostName', 'portMappings', 'name', '__typename', '__schema', '__type', 'types', 'ofType', 'fields',
  'FULFILLED', 'QUEUED', '"1234"', '0', '-1', '1.5e300', '"\\u0000"', '"\\uD800"', '$v', 'ID!', 'String',
];

const VALID_DOCUMENTS = [
  '{ __typename }',
  'query ($s: String!) { cluster(sessionId: $s) { state hostName portMappings { name externalPort } } }',
  'query ($t: ID, $st: FulfillmentState) { clusters(titleId: $t, state: $st) { sessionId state } }',
  'mutation ($t: ID!, $s: String!, $a: Boolean) { requestCluster(titleId: $t, sessionId: $s, abortIfQueued: $a) }',
  'subscription ($s: String!) { clusterStatus(sessionId: $s) { state } }',
  '{ __schema { queryType { name } } }',
  'fragment F on ClusterStatus { state } query Q($s: String!) { cluster(sessionId: $s) { ...F } }',
];

/** A valid document with a few characters deleted, inserted or replaced. */
const mutatedDocument = fc
  .tuple(
    fc.constantFrom(...VALID_DOCUMENTS),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'replace'), fc.string({ minLength: 1, maxLength: 3, unit: 'binary' })), { minLength: 1, maxLength: 4 }),
  )
  .map(([document, edits]) =>
    edits.reduce((text, [at, kind, chars]) => {
      const i = text.length === 0 ? 0 : at % text.length;
      if (kind === 'delete') return text.slice(0, i) + text.slice(i + 1);
      if (kind === 'insert') return text.slice(0, i) + chars + text.slice(i);
      return text.slice(0, i) + chars + text.slice(i + chars.length);
    }, document),
  );

/** GraphQL documents: valid ones, slightly broken ones, token soup, deep nesting, and noise. */
export const documentArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...VALID_DOCUMENTS),
  mutatedDocument,
  fc.array(fc.constantFrom(...GRAPHQL_TOKENS), { maxLength: 40 }).map((tokens) => tokens.join(' ')),
  fc.nat({ max: 300 }).map((depth) => `{ ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }`),
  fc.nat({ max: 200 }).map((n) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`),
  fc.string({ maxLength: 200, unit: 'binary' }),
);

/** Variables of any JSON shape, with the real names showing up often. */
export const variablesArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record(
    { s: fc.oneof(sessionIdArb, fc.jsonValue()), t: fc.oneof(titleIdArb, fc.jsonValue()), a: fc.jsonValue(), st: fc.jsonValue() },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

/** An HTTP request at the gateway: any method, path, headers and body a client could send. */
export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD';
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

const queryStringArb = fc.oneof(
  fc
    .record({ query: documentArb, variables: variablesArb.map((v) => JSON.stringify(v)), operationName: fc.string({ maxLength: 10 }) }, { requiredKeys: [] })
    .map((params) => new URLSearchParams(params as Record<string, string>).toString()),
  fc.webQueryParameters(),
  fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20, unit: 'binary' })), { maxLength: 5 }).map((pairs) => new URLSearchParams(pairs).toString()),
  fc.constantFrom('query=%zz', 'query=%', 'variables=%7B', 'query=&query=%7B__typename%7D', 'extensions=null'),
);

const bodyArb: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  fc
    .record(
      { query: fc.oneof(documentArb, fc.jsonValue()), variables: variablesArb, operationName: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue()), extensions: fc.jsonValue() },
      { requiredKeys: [] },
    )
    .map((body) => JSON.stringify(body)),
  fc.array(fc.record({ query: documentArb }), { maxLength: 3 }).map((batch) => JSON.stringify(batch)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(undefined),
);

const contentTypeArb = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/graphql+json',
  'application/graphql',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
  '*/*',
);

const acceptArb = fc.constantFrom(
  'application/json',
  'application/graphql-response+json',
  'text/event-stream',
  'multipart/mixed',
  'text/html',
  '*/*',
  'image/png',
  '',
);

export const httpRequestArb: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
  path: fc.oneof(
    queryStringArb.map((q) => `/graphql?${q}`),
    fc.constant('/graphql'),
    fc.constantFrom('/', '/ready', '/health', '/metrics', '/graphql/', '/GRAPHQL', '/graphql/../graphql', '/%2e%2e/graphql', '/graphql;x'),
    fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  ),
  headers: fc
    .record(
      {
        'content-type': contentTypeArb,
        accept: acceptArb,
        authorization: authorizationArb.map((a) => a ?? ''),
        'x-api-key': headerText(40),
        origin: fc.constantFrom('http://evil.example', 'null', 'http://127.0.0.1'),
        'x-graphql-yoga-csrf': fc.constant('1'),
        'graphql-client-name': headerText(20),
        'x-fuzz': headerText(100),
      },
      { requiredKeys: [] },
    )
    .map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''))),
  body: bodyArb,
});
