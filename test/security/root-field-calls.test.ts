/** countRootFieldCalls: what the rate limit counts before an operation runs. */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { countRootFieldCalls } from '../../src/server/security/root-field-calls.js';

const calls = (source: string, variables: Record<string, unknown> = {}, operationName?: string) =>
  countRootFieldCalls(parse(source), operationName, variables, 'mutation', 'requestCluster');

describe('countRootFieldCalls', () => {
  it('counts each alias once, and one call for selections execution merges', () => {
    expect(calls('mutation { requestCluster(titleId: "1", sessionId: "a") }')).toBe(1);
    expect(calls('mutation { a: requestCluster(titleId: "1", sessionId: "a") b: requestCluster(titleId: "1", sessionId: "b") }')).toBe(2);
    expect(calls('mutation { requestCluster(titleId: "1", sessionId: "a") requestCluster(titleId: "1", sessionId: "a") }')).toBe(1);
  });

  it('looks through inline fragments and fragment spreads at the root', () => {
    const source = `
      mutation { ...Two ... on Mutation { c: requestCluster(titleId: "1", sessionId: "c") } ...Two }
      fragment Two on Mutation { a: requestCluster(titleId: "1", sessionId: "a") b: requestCluster(titleId: "1", sessionId: "b") }`;
    expect(calls(source)).toBe(3);
  });

  it('skips what @skip and @include switch off, by literal or variable', () => {
    const source = `mutation($on: Boolean!) {
      a: requestCluster(titleId: "1", sessionId: "a") @include(if: $on)
      b: requestCluster(titleId: "1", sessionId: "b") @skip(if: true)
      ... @skip(if: $on) { c: requestCluster(titleId: "1", sessionId: "c") }
    }`;
    expect(calls(source, { on: true })).toBe(1);
    expect(calls(source, { on: false })).toBe(1);
  });

  it('counts only the chosen operation, and only mutations', () => {
    const source = `
      mutation One { requestCluster(titleId: "1", sessionId: "a") }
      mutation Two { a: requestCluster(titleId: "1", sessionId: "a") b: requestCluster(titleId: "1", sessionId: "b") }
      query Read { __typename }`;
    expect(calls(source, {}, 'One')).toBe(1);
    expect(calls(source, {}, 'Two')).toBe(2);
    expect(calls(source, {}, 'Read')).toBe(0);
    expect(calls(source, {}, 'Missing')).toBe(0);
  });
});
