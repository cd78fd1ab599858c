/**
 * Introspection and GraphiQL: on by default (a developer's first run), switched off by configuration
 * for production, on both transports.
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectWs, startTestGateway, type TestGateway } from '../support/gateway.js';
import { post, send } from './http.js';

const openGraphiQL = (url: string) => send(`${url}/graphql`, { method: 'GET', headers: { accept: 'text/html' } });

let open: TestGateway;
let closed: TestGateway;

beforeAll(async () => {
  [open, closed] = await Promise.all([startTestGateway(), startTestGateway({ env: { GRAPHQL_INTROSPECTION: 'false', GRAPHIQL: 'false' } })]);
});
afterAll(() => Promise.all([open?.close(), closed?.close()]));

describe('by default, GraphiQL and introspection are on', () => {
  it('serves GraphiQL, which sends the CSRF header with every request', async () => {
    const page = await openGraphiQL(open.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('x-graphql-yoga-csrf');
  });

  it('answers introspection', async () => {
    const answer = (await post(open.url, getIntrospectionQuery())).json();
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toHaveProperty('__schema');
  });
});

describe('GRAPHQL_INTROSPECTION=false and GRAPHIQL=false', () => {
  it('refuses __schema and __type with GRAPHQL_VALIDATION_FAILED over HTTP', async () => {
    for (const query of [getIntrospectionQuery(), '{ __type(name: "Query") { name } }']) {
      const answer = (await post(closed.url, query)).json();
      expect(answer.data).toBeUndefined();
      expect(answer.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(answer.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    }
  });

  it('refuses it over graphql-ws too', async () => {
    const { error } = await collectWs(closed.wsClient(), '{ __schema { queryType { name } } }', {});
    expect((error as { extensions?: unknown }[] | undefined)?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('still answers { __typename } and ordinary fields', async () => {
    expect((await post(closed.url, '{ __typename }')).json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves no GraphiQL page', async () => {
    const page = await openGraphiQL(closed.url);
    expect(String(page.headers['content-type'])).not.toMatch(/text\/html/);
    expect(page.text.toLowerCase()).not.toContain('graphiql');
    expect(page.status).toBeGreaterThanOrEqual(400);
  });
});
