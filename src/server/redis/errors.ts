/**
 * Maps "Redis is unreachable" to an error callers can act on. The registry and leases throw
 * RegistryUnavailableError from any resolver; rather than catch it in each, yoga's error masking turns
 * it into `REGISTRY_UNAVAILABLE` (HTTP 503) and masks everything else as before.
 */
import { GraphQLError } from 'graphql';
import { maskError, type YogaServerOptions } from 'graphql-yoga';
import { RegistryUnavailableError } from '../../clusters/registry-unavailable.js';

type MaskError = NonNullable<Exclude<YogaServerOptions<object, object>['maskedErrors'], boolean | undefined>['maskError']>;

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = (current as Error & { originalError?: unknown }).originalError ?? current.cause) {
    chain.push(current);
  }
  return chain;
}

export const maskRegistryErrors: MaskError = (error, message, isDev) => {
  if (causeChain(error).some((e) => e instanceof RegistryUnavailableError)) {
    const path = error instanceof GraphQLError ? error.path : undefined;
    return new GraphQLError('The gateway cannot reach its shared registry (Redis); try again shortly.', {
      path,
      extensions: { code: 'REGISTRY_UNAVAILABLE', http: { status: 503 } },
    });
  }
  return maskError(error, message, isDev);
};
