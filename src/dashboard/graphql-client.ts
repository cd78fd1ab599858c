/**
 * The two ways the page talks to the gateway: a query over POST, and a subscription over SSE read with
 * fetch and a stream reader. EventSource cannot send headers, and the credential must travel in one.
 */
export type RequestHeaders = Record<string, string>;

interface GraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** An error the gateway answered with; `code` is its `extensions.code`. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const ENDPOINT = '/graphql';

function body(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

function dataOf<T>(result: GraphQLResult<T>): T {
  const first = result.errors?.[0];
  if (first) throw new GraphQLRequestError(first.message, first.extensions?.code);
  if (!result.data) throw new GraphQLRequestError('The gateway answered without data.', undefined);
  return result.data;
}

export async function runQuery<T>(query: string, variables: Record<string, unknown>, headers: RequestHeaders, signal?: AbortSignal): Promise<T> {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: body(query, variables),
    signal,
  });
  return dataOf((await response.json()) as GraphQLResult<T>);
}

/**
 * Streams a subscription, calling `onData` for each event. Resolves when the gateway ends the stream,
 * rejects on an error result or a broken connection (e.g. the gateway restarting).
 */
export async function runSubscription<T>(
  query: string,
  variables: Record<string, unknown>,
  headers: RequestHeaders,
  onData: (data: T) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: body(query, variables),
    signal,
  });
  if (!response.headers.get('content-type')?.includes('text/event-stream') || !response.body) {
    // Refused before streaming (e.g. a bad request): a plain GraphQL result.
    dataOf((await response.json()) as GraphQLResult<T>);
    throw new GraphQLRequestError(`The gateway did not stream (HTTP ${response.status}).`, undefined);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const message = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (message.event === 'complete') return;
      if (message.event === 'next' && message.data) onData(dataOf(JSON.parse(message.data) as GraphQLResult<T>));
    }
  }
}

/** One SSE message: its `event` field and its `data` lines joined (comment lines are keep-alives). */
function parseEvent(text: string): { event: string | undefined; data: string } {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}
