import { describe, it, expect } from 'vitest';
import { EmulatorConfigError, emulatorOptionsFromEnv } from '../../src/gsms/emulator/options.js';
import { DEFAULT_EMULATOR_OPTIONS, startEmulator } from '../../src/gsms/emulator/server.js';

describe('emulator options from the environment', () => {
  it('uses the defaults when nothing (or blanks) is set', () => {
    const expected = { port: 4100, host: '127.0.0.1', options: { ...DEFAULT_EMULATOR_OPTIONS, deniedTitles: [] } };
    expect(emulatorOptionsFromEnv({})).toEqual(expected);
    expect(emulatorOptionsFromEnv({ GSMS_EMULATOR_PORT: '', GSMS_EMULATOR_DENIED_TITLES: ' ' })).toEqual(expected);
    expect(emulatorOptionsFromEnv({}, { defaultPort: 0 }).port).toBe(0);
  });

  it('reads every variable, normalising denied titles to decimal', () => {
    expect(
      emulatorOptionsFromEnv({
        GSMS_EMULATOR_PORT: '4200',
        GSMS_EMULATOR_HOST: '0.0.0.0',
        GSMS_EMULATOR_CAPACITY: '5',
        GSMS_EMULATOR_CLUSTER_LIFETIME_MS: '1000',
        GSMS_EMULATOR_POLL_INTERVAL_MS: '250',
        GSMS_EMULATOR_FAULT_RATE: '0.4',
        GSMS_EMULATOR_DENIED_TITLES: '42, 0x10,',
      }),
    ).toEqual({
      port: 4200,
      host: '0.0.0.0',
      options: { capacity: 5, clusterLifetimeMs: 1000, pollIntervalMs: 250, faultRate: 0.4, deniedTitles: ['42', '16'] },
    });
  });

  it('names every bad variable in one error', () => {
    const read = () =>
      emulatorOptionsFromEnv({ GSMS_EMULATOR_PORT: 'abc', GSMS_EMULATOR_FAULT_RATE: '1.5', GSMS_EMULATOR_DENIED_TITLES: '42,x' });
    expect(read).toThrow(EmulatorConfigError);
    expect(read).toThrow(/GSMS_EMULATOR_PORT[\s\S]*GSMS_EMULATOR_FAULT_RATE[\s\S]*GSMS_EMULATOR_DENIED_TITLES/);
  });

  it('refuses bad options given in code', async () => {
    await expect(startEmulator({ capacity: -1 })).rejects.toThrow();
    await expect(startEmulator({ faultRate: 2 })).rejects.toThrow();
  });
});
