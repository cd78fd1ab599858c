/**
 * The `upstream` readiness check: can this instance reach GSMS at all? A TCP connect to the base URL's
 * host and port, with a short timeout. It posts nothing (a cluster request would allocate servers and
 * needs a caller's credential) and, unlike an HTTP request, needs no token.
 */
import { connect } from 'node:net';
import type { ReadinessCheck } from './readiness.js';

export function upstreamReadinessCheck(baseUrl: string, timeoutMs = 2_000): ReadinessCheck {
  const url = new URL(baseUrl);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  // URL keeps the brackets of an IPv6 literal; net.connect wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { name: 'upstream', check: () => canConnect(host, port, timeoutMs) };
}

function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
