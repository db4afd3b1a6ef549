import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { SECRET } from './support.js';

describe('webhook configuration', () => {
  it.each([
    ['no whsec_ prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /must start with whsec_/],
    ['not base64', 'whsec_!!!not-base64!!!', /not valid base64/],
    ['too short', `whsec_${Buffer.alloc(8).toString('base64')}`, /holds 8 bytes/],
  ])(
    'a WEBHOOK_SECRET with %s stops the boot, naming the variable but not the value',
    (_label, value, message) => {
      let error: unknown;
      try {
        loadConfig({ WEBHOOK_SECRET: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/WEBHOOK_SECRET/);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(value);
    },
  );

  it('takes a valid secret, and WEBHOOK_ALLOW_PRIVATE only as true or false', () => {
    const config = loadConfig({ WEBHOOK_SECRET: SECRET, WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect(config.WEBHOOK_SECRET).toBe(SECRET);
    expect(config.WEBHOOK_ALLOW_PRIVATE).toBe(true);
    expect(config.WEBHOOK_TIMEOUT_MS).toBe(10_000);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE/);
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY: '0' })).toThrow(/WEBHOOK_CONCURRENCY/);
  });
});
