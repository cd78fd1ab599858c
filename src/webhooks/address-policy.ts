/**
 * Which addresses a webhook may reach (SSRF). A receiver is on the public internet: loopback, private,
 * carrier-grade NAT, link-local (169.254.169.254, the cloud metadata service, among them), unique-local,
 * multicast and reserved ranges are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on (development and tests).
 * Checked for a literal address when an endpoint is created, and for every resolved address at each
 * delivery (see webhook-sender.ts), which also pins the connection to the address that was checked.
 */
import { BlockList, isIP } from 'node:net';

const refused = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  refused.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  refused.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 address. */
function embeddedIPv4(address: string): string | null {
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether an IP address is one a webhook must not reach without WEBHOOK_ALLOW_PRIVATE_NETWORKS. */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return refused.check(bare, 'ipv4');
  if (family === 6) {
    const inner = embeddedIPv4(bare);
    return inner !== null ? refused.check(inner, 'ipv4') : refused.check(bare, 'ipv6');
  }
  return false;
}

/** Why a webhook URL is refused at creation, or null when it is acceptable. */
export function webhookUrlProblem(text: string, allowPrivateNetworks: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be http or https';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (text.length > 2_000) return 'is longer than 2000 characters';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivateNetworks) {
    if (host === 'localhost' || host.endsWith('.localhost')) return 'points at a loopback address';
    if (isIP(host) !== 0 && isNonPublicAddress(host)) return 'points at a loopback, private, link-local or multicast address';
  }
  return null;
}
