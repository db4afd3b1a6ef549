/**
 * Credentials in a URL never reach an error or a log line: one helper masks
 * them, and every logger the app runs with (its own or the one passed in)
 * applies it to errors.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { maskUrl, maskUrlsIn } from '../../src/util/mask-url.js';
import { startApp, type TestApp } from '../support/app.js';

describe('maskUrl', () => {
  it.each([
    ['redis://:pw@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
    ['redis://chorus:pw@host:6379', 'redis://chorus:***@host:6379'],
    ['rediss://pw@host', 'rediss://***@host'],
    ['redis://user:p@ss/w@[bad', 'redis://user:***@[bad'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['https://api.example.com/v1', 'https://api.example.com/v1'],
    ['user:pw@host', 'user:***@host'],
  ])('%s → %s', (url, expected) => {
    expect(maskUrl(url)).toBe(expected);
    // Masking twice changes nothing more.
    expect(maskUrl(maskUrl(url))).toBe(expected);
  });

  it('masks every URL in a text and leaves the rest alone', () => {
    const text = 'connect to redis://a:pw1@r:6379 failed; base "https://u:pw2@llm/v1" at x@y';
    expect(maskUrlsIn(text)).toBe(
      'connect to redis://a:***@r:6379 failed; base "https://u:***@llm/v1" at x@y',
    );
  });
});

describe('logged errors', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('the app masks a URL with credentials in an error message, its stack and its cause', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    app = await startApp({ logger });
    const cause = new TypeError(
      'Request cannot be constructed from a URL that includes credentials: https://u:pw-cause@llm/v1',
    );
    app.app.log.error({ err: new Error('redis://:pw-message@127.0.0.1:6379 refused', { cause }) }, 'boom');
    app.app.log.error({ err: { message: 'plain redis://x:pw-plain@h' } }, 'plain');
    const logged = lines.filter((line) => line.includes('boom') || line.includes('plain'));
    expect(logged).toHaveLength(2);
    for (const line of logged) {
      expect(line).not.toMatch(/pw-(cause|message|plain)/);
      expect(line).toContain(':***@');
    }
  });
});
