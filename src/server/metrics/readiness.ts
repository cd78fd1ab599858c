/**
 * `GET /ready`: whether this instance can serve. Each dependency contributes a named check; the answer
 * lists them all and is 503 when any fails, so a load balancer stops sending traffic.
 */
import type { Plugin } from 'graphql-yoga';

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency answers; must settle quickly (give it its own timeout). */
  check(): Promise<boolean>;
}

export async function readinessResponse(checks: readonly ReadinessCheck[]): Promise<Response> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => [name, await check().catch(() => false)] as const),
  );
  const ready = results.every(([, ok]) => ok);
  return Response.json({ ready, checks: Object.fromEntries(results) }, { status: ready ? 200 : 503 });
}

/**
 * Serves `GET {path}` from the checks. yoga's `useReadinessCheck` does the same but also matches every other
 * request against a URLPattern, a JavaScript polyfill on Node 20 that cost ~2% of a requestCluster's CPU.
 */
export function useReadinessEndpoint(path: string, checks: readonly ReadinessCheck[]): Plugin {
  return {
    onRequest({ url, endResponse }) {
      if (url.pathname === path) return readinessResponse(checks).then(endResponse);
    },
  };
}
