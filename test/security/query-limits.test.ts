/**
 * graphql-armor's limits on the document: each refusal carries its own code, on HTTP and graphql-ws, and
 * GraphiQL's schema query (the Docs panel) still passes under the default depth limit.
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectWs, startTestGateway, type TestGateway } from '../support/gateway.js';
import { post } from './http.js';

/** `__type` then `ofType` nested `levels` times: introspection's only deep path in this schema. */
const deepTypeChain = (levels: number) => `{ __type(name: "Query") { ${'fields { type { '.repeat(1)}${'ofType { '.repeat(levels)}name${' }'.repeat(levels)} } } } }`;

let defaults: TestGateway;
let tight: TestGateway;

beforeAll(async () => {
  [defaults, tight] = await Promise.all([
    startTestGateway(),
    startTestGateway({ env: { GRAPHQL_MAX_DEPTH: '2', GRAPHQL_MAX_ALIASES: '1', GRAPHQL_MAX_TOKENS: '40', GRAPHQL_MAX_COST: '10', GRAPHQL_MAX_DIRECTIVES: '1' } }),
  ]);
});
afterAll(() => Promise.all([defaults?.close(), tight?.close()]));

const code = (answer: { errors?: { extensions?: Record<string, unknown> }[] }) => answer.errors?.[0]?.extensions?.code;

describe('depth: GraphiQL still loads the schema, a deep __type chain is refused', () => {
  it("GraphiQL's introspection query passes under the default limits", async () => {
    const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    const answer = (await post(defaults.url, query)).json();
    expect(answer.errors).toBeUndefined();
    expect((answer.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(5);
  });

  it('a deep __type { ofType … } chain is MAX_DEPTH_EXCEEDED, over HTTP and graphql-ws', async () => {
    expect((await post(defaults.url, deepTypeChain(2))).json().errors).toBeUndefined();
    const answer = (await post(defaults.url, deepTypeChain(8))).json();
    expect(code(answer)).toBe('MAX_DEPTH_EXCEEDED');
    expect(answer.errors?.[0]?.message).toMatch(/^Query depth limit of 6 exceeded/);
    expect(answer.data).toBeUndefined();
    const ws = await collectWs(defaults.wsClient(), deepTypeChain(8), {});
    expect((ws.error as { extensions?: unknown }[] | undefined)?.[0]).toMatchObject({ extensions: { code: 'MAX_DEPTH_EXCEEDED' } });
  });

  it('the depth limit is configurable', async () => {
    expect(code((await post(tight.url, '{ clusters { portMappings { name } } }')).json())).toBe('MAX_DEPTH_EXCEEDED');
  });
});

describe('aliases, tokens, cost and directives are refused with their own codes', () => {
  it('more aliases than allowed is MAX_ALIASES_EXCEEDED', async () => {
    const sixteen = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: clusters { sessionId }`).join(' ')} }`;
    expect(code((await post(defaults.url, sixteen)).json())).toBe('MAX_ALIASES_EXCEEDED');
    expect(code((await post(tight.url, '{ a: __schema { queryType { name } } b: __schema { queryType { name } } }')).json())).toBe('MAX_ALIASES_EXCEEDED');
  });

  it('more tokens than allowed is MAX_TOKENS_EXCEEDED, over HTTP and graphql-ws', async () => {
    const long = `{ ${'__typename '.repeat(1_001)}}`;
    expect(code((await post(defaults.url, long)).json())).toBe('MAX_TOKENS_EXCEEDED');
    const ws = await collectWs(defaults.wsClient(), long, {});
    expect((ws.error as { extensions?: unknown }[] | undefined)?.[0]).toMatchObject({ extensions: { code: 'MAX_TOKENS_EXCEEDED' } });
  });

  it('a query costlier than allowed is MAX_COST_EXCEEDED', async () => {
    const answer = (await post(tight.url, '{ clusters { sessionId titleId state hostName region requestedAt updatedAt } }')).json();
    expect(answer.errors?.map((e) => e.extensions?.code)).toContain('MAX_COST_EXCEEDED');
  });

  it('more directives than allowed is MAX_DIRECTIVES_EXCEEDED', async () => {
    expect(code((await post(tight.url, '{ __typename @include(if: true) @skip(if: false) }')).json())).toBe('MAX_DIRECTIVES_EXCEEDED');
  });

  it('a query within every limit passes', async () => {
    expect((await post(tight.url, '{ __typename }')).json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('field suggestions are not revealed', () => {
  it('an unknown field is GRAPHQL_VALIDATION_FAILED without "Did you mean"', async () => {
    const answer = (await post(defaults.url, '{ cluster_s { sessionId } }')).json();
    expect(code(answer)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});
