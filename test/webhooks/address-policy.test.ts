/** Which webhook URLs and addresses are refused (SSRF), and how WEBHOOK_* settings are read. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.js';
import { isNonPublicAddress, webhookUrlProblem } from '../../src/webhooks/address-policy.js';
import { parseRetrySchedule } from '../../src/webhooks/retry-schedule.js';

describe('non-public addresses', () => {
  it.each([
    '127.0.0.1', '127.255.0.1', '10.0.0.1', '172.31.255.255', '192.168.0.10', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.251', '255.255.255.255', '::1', '::', 'fd12:3456::1', 'fc00::1', 'fe80::1%eth0', 'ff02::1', '::ffff:127.0.0.1',
    '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::10.0.0.1',
  ])('%s is refused', (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });
  it.each(['8.8.8.8', '203.0.113.7', '172.32.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])('%s is allowed', (address) => {
    expect(isNonPublicAddress(address)).toBe(false);
  });
});

describe('webhook URLs at creation', () => {
  it('takes public http(s) URLs and names (names are checked when delivering)', () => {
    for (const url of ['https://hooks.example.com/gsms', 'http://203.0.113.7:8080/x', 'https://[2001:db8::1]/x']) {
      expect(webhookUrlProblem(url, false), url).toBeNull();
    }
  });
  it('refuses other schemes, credentials and literal non-public hosts in any spelling', () => {
    for (const url of ['file:///etc/passwd', 'gopher://x', 'https://u:p@example.com/', 'http://0x7f.1/', 'http://017700000001/', 'http://[::1]:80/', 'http://a.localhost/']) {
      expect(webhookUrlProblem(url, false), url).not.toBeNull();
    }
  });
  it('takes loopback with WEBHOOK_ALLOW_PRIVATE_NETWORKS, but never credentials or other schemes', () => {
    expect(webhookUrlProblem('http://127.0.0.1:9000/hooks', true)).toBeNull();
    expect(webhookUrlProblem('http://u:p@127.0.0.1/', true)).not.toBeNull();
    expect(webhookUrlProblem('ftp://127.0.0.1/', true)).not.toBeNull();
  });
});

describe('WEBHOOK_* configuration', () => {
  it('reads the defaults: 15 s timeout, the spec\'s schedule, private networks refused', () => {
    expect(loadConfig({}).webhooks).toEqual({
      timeoutMs: 15_000,
      retrySchedule: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      allowPrivateNetworks: false,
    });
  });
  it('reads a schedule with every unit, and the switch', () => {
    const config = loadConfig({ WEBHOOK_RETRY_SCHEDULE: '250ms, 2s,1.5m,1h', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_MS: '3000' });
    expect(config.webhooks).toEqual({ timeoutMs: 3_000, retrySchedule: [250, 2_000, 90_000, 3_600_000], allowPrivateNetworks: true });
    expect(parseRetrySchedule('')).toEqual([]);
  });
  it('refuses a bad value, naming the variable', () => {
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5 seconds' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'maybe' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '0' })).toThrow(/WEBHOOK_TIMEOUT_MS/);
  });
});
