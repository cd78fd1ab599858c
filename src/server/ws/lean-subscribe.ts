/**
 * The engine's `subscribe` (yoga's `useEngine`), for SSE and graphql-ws alike: the spec's algorithm with one
 * small object per open subscription between the resolver's stream and envelop's plugin hooks.
 *
 * Why not yoga's default (@graphql-tools/executor's `subscribe`): it wraps every source stream in a
 * mapAsyncIterator and a flattenAsyncIterable (for @defer/@stream inside events, which this schema does not
 * define, so validation rejects them), keeps an execution context per stream, and leaves an async frame
 * suspended per stream: about 3 KB of closures, promises and frames per open subscription (heap snapshots of
 * bench/fanout.ts; 12.0 → 8.7 KB of heap per subscription there), 30 MB for 10,000. The parts are the libraries' own: graphql-js's CreateSourceEventStream,
 * then each event executed by the executor yoga uses for every other operation. Whatever this does not cover
 * (invalid variables, a cancellation signal) goes to the executor's `subscribe`, so those answers are unchanged.
 */
import { buildExecutionContext, execute, subscribe as executorSubscribe, type ExecutionArgs } from '@graphql-tools/executor';
import { createSourceEventStream, getOperationAST, GraphQLError, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type Done = IteratorReturnResult<undefined>;

/**
 * Each source event executed as the operation with the event as root value (the spec's
 * MapSourceToResponseEvent). A class, so the methods live on the prototype instead of as closures per stream.
 */
class ResponseEventStream implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    return this.source.next().then(
      (event) => (event.done ? (event as Done) : this.#respond(event.value)),
      (error: unknown) => {
        throw sourceError(error, this.args);
      },
    );
  }

  return(): Promise<Done> {
    return Promise.resolve(this.source.return?.()).then(() => DONE);
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    if (this.source.throw) return this.source.throw(error).then(() => DONE);
    return this.return().then(() => Promise.reject(error));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #respond(event: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    // A plain result: without @defer/@stream in the schema the executor never answers incrementally.
    const value = (await execute({ ...this.args, rootValue: event })) as ExecutionResult;
    return { done: false, value };
  }
}

const DONE: Done = Object.freeze({ done: true, value: undefined });

/** As the executor reports a failing source stream: a GraphQLError located at the operation. */
function sourceError(error: unknown, args: ExecutionArgs): unknown {
  if (!(error instanceof Error)) return error;
  const operation = getOperationAST(args.document, args.operationName) as OperationDefinitionNode;
  const wrap = (e: Error) => new GraphQLError(e.message, { originalError: e, nodes: [operation] });
  if (error instanceof AggregateError) return new AggregateError(error.errors.map(wrap), error.message);
  return wrap(error);
}

export async function subscribeLean(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  if (args.signal || !('schema' in buildExecutionContext(args))) return executorSubscribe(args) as never;
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream;
  return new ResponseEventStream(stream[Symbol.asyncIterator](), args);
}

/** Registered after yoga's own engine, so its `subscribe` replaces the executor's. */
export function useLeanSubscribe(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribeLean as never);
    },
  };
}
