import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.js';

describe('configuration is validated at start', () => {
  it('defaults give a gateway on 127.0.0.1:4000 with the embedded emulator on a free port', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: '127.0.0.1', gsmsBaseUrl: undefined, watchTimeoutMs: 600_000 });
    expect(config.embeddedEmulator.port).toBe(0);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ GSMS_BASE_URL: 'not a url' })).toThrow(/GSMS_BASE_URL/);
    expect(() => loadConfig({ GSMS_EMULATOR_FAULT_RATE: '2' })).toThrow(/GSMS_EMULATOR_FAULT_RATE/);
  });

  it('refuses a malformed default credential without repeating it', () => {
    const attempt = () => loadConfig({ GSMS_AUTHORIZATION: 'Bearer very-secret-value' });
    expect(attempt).toThrow(/GSMS_AUTHORIZATION/);
    expect(attempt).not.toThrow(/very-secret-value/);
  });
});

describe('Redis topology', () => {
  const key = 'ab'.repeat(32);

  it('REDIS_URL is one primary; REDIS_CLUSTER_NODES lists seed nodes of a Redis Cluster', () => {
    expect(loadConfig({ REDIS_URL: 'redis://10.0.0.1:6379', GSMS_CREDENTIAL_KEY: key }).redis?.topology).toEqual({ kind: 'single', url: 'redis://10.0.0.1:6379' });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-a:7000, 10.0.0.2:7001,[::1]:7002', GSMS_CREDENTIAL_KEY: key }).redis?.topology).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-a', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(loadConfig({}).redis).toBeUndefined();
  });

  it('refuses both at once, a malformed node list, and a cluster without a credential key', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000', GSMS_CREDENTIAL_KEY: key })).toThrow(/REDIS_URL, REDIS_CLUSTER_NODES: set one, not both/);
    for (const bad of ['a', 'a:', ':7000', 'a:70000', 'a:7000,', 'redis://a:7000', 'a:7000,,b:7001']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad, GSMS_CREDENTIAL_KEY: key }), bad).toThrow(/REDIS_CLUSTER_NODES: must be host:port/);
    }
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7000' })).toThrow(/GSMS_CREDENTIAL_KEY: required when REDIS_CLUSTER_NODES is set/);
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379' })).toThrow(/GSMS_CREDENTIAL_KEY: required when REDIS_URL is set/);
  });
});
