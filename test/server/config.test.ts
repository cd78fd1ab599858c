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
