/** An open-ended SSE subscription for tests: collects `next` payloads as they come, until closed. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphQLResponse } from '../support/gateway.js';

export interface EventStream<T> {
  readonly results: GraphQLResponse<T>[];
  /** Resolves once some result satisfies `predicate`; fails after `timeoutMs`. */
  waitFor(predicate: (results: GraphQLResponse<T>[]) => boolean, timeoutMs?: number): Promise<GraphQLResponse<T>[]>;
  close(): void;
}

export async function openEventStream<T>(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<EventStream<T>> {
  const controller = new AbortController();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const results: GraphQLResponse<T>[] = [];
  let ended = false;
  void (async () => {
    let buffer = '';
    const decoder = new TextDecoder();
    const reader = response.body!.getReader();
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += decoder.decode(read.value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(message)?.[1];
          if (/^event: next$/m.test(message) && data) results.push(JSON.parse(data) as GraphQLResponse<T>);
        }
      }
    } catch {
      // closed by the test
    } finally {
      ended = true;
    }
  })();
  return {
    results,
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(results)) {
        if (Date.now() > deadline || ended) throw new Error(`stream ${ended ? 'ended' : 'timed out'} with ${JSON.stringify(results)}`);
        await sleep(10);
      }
      return results;
    },
    close: () => controller.abort(),
  };
}
