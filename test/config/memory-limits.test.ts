/** The byte limits of analyses and retention: defaults, and boot errors that name the variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

function bootError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('byte limits in the configuration', () => {
  it('defaults: 1 MiB input, 16 KiB metadata, 8 MiB of events, 256 MiB retained', () => {
    expect(loadConfig({})).toMatchObject({
      MAX_ANALYSIS_INPUT_BYTES: 1_048_576,
      MAX_METADATA_BYTES: 16_384,
      MAX_ANALYSIS_EVENT_BYTES: 8_388_608,
      MAX_RETAINED_BYTES: 268_435_456,
    });
    // The input budget sits below the body limit, so it is the one a client meets.
    const config = loadConfig({});
    expect(config.MAX_ANALYSIS_INPUT_BYTES).toBeLessThan(config.BODY_LIMIT_BYTES);
  });

  it.each([
    ['MAX_ANALYSIS_INPUT_BYTES', 'lots'],
    ['MAX_ANALYSIS_INPUT_BYTES', '10'],
    ['MAX_METADATA_BYTES', '-1'],
    ['MAX_ANALYSIS_EVENT_BYTES', '1.5'],
    ['MAX_RETAINED_BYTES', '1000'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(bootError({ [name]: value })).toContain(name);
  });

  it('refuses metadata allowed more than the whole input', () => {
    const message = bootError({ MAX_ANALYSIS_INPUT_BYTES: '4096', MAX_METADATA_BYTES: '8192' });
    expect(message).toContain('MAX_METADATA_BYTES');
    expect(message).toContain('MAX_ANALYSIS_INPUT_BYTES');
  });

  it('refuses a retention budget smaller than one analysis of events', () => {
    const message = bootError({ MAX_RETAINED_BYTES: '2000000', MAX_ANALYSIS_EVENT_BYTES: '4000000' });
    expect(message).toContain('MAX_RETAINED_BYTES');
    expect(message).toContain('MAX_ANALYSIS_EVENT_BYTES');
  });
});
