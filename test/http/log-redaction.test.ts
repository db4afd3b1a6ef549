/**
 * The stream token in a query string never reaches a log line, however its
 * name is spelled: the query parser decodes `%74oken` to `token`, so the
 * redaction compares names after decoding too.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions, safeUrl } from '../../src/logger.js';
import { startApp, type TestApp } from '../support/app.js';

let t: TestApp;
const lines: string[] = [];

beforeAll(async () => {
  const logger = pino(loggerOptions('info'), { write: (line: string) => void lines.push(line) });
  t = await startApp({ env: { API_KEYS: 'log-key' }, logger });
});
afterAll(async () => {
  await t.close();
});

const SPELLINGS = [
  'token',
  '%74oken',
  '%74%6F%6B%65%6E',
  'tok%65n',
  'TOKEN',
  '%54oken',
  'token%20',
  '+token',
];

describe('stream tokens in logged URLs', () => {
  it.each(SPELLINGS)('?%s=… is redacted from the request log', async (name) => {
    const secret = `sekret-${Buffer.from(name).toString('hex')}`;
    lines.length = 0;
    const res = await fetch(`${t.url}/v1/analyses/an_missing/events?deltas=false&${name}=${secret}`);
    await res.body?.cancel();
    const logged = lines.join('\n');
    expect(logged).toContain('/v1/analyses/an_missing/events');
    expect(logged).toContain('[redacted]');
    expect(logged).not.toContain(secret);
  });

  it('keeps every other parameter as sent', () => {
    expect(safeUrl('/v1/x?deltas=false&%74oken=abc&limit=5')).toBe(
      '/v1/x?deltas=false&%74oken=[redacted]&limit=5',
    );
    expect(safeUrl('/v1/x?tokens=abc&my_token=def')).toBe('/v1/x?tokens=abc&my_token=def');
    expect(safeUrl('/v1/x?token=a&token=b')).toBe('/v1/x?token=[redacted]&token=[redacted]');
    expect(safeUrl('/v1/x?%zztoken=a')).toBe('/v1/x?%zztoken=a');
    expect(safeUrl('/v1/x?%zz&token=a%')).toBe('/v1/x?%zz&token=[redacted]');
  });
});
