/**
 * Failed authentication is limited per client address (AUTH_FAILURES_PER_MINUTE),
 * whether or not RATE_LIMIT_PER_MINUTE is set: a client guessing keys is
 * refused with 429 and Retry-After, and while it is, even a right key from that
 * address is refused (a different answer would tell the guesser it had won).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { json, startApp, type TestApp } from '../support/app.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A clock the test moves by hand. */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const models = (key?: string) =>
  fetch(`${t!.url}/v1/models`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

describe('failed authentication per client address', () => {
  it('answers 429 with Retry-After once the wrong keys of a minute are used up, then lets the address in again', async () => {
    const clock = manualClock();
    t = await startApp({ env: { API_KEYS: 'right-key', AUTH_FAILURES_PER_MINUTE: '3' }, now: clock.now });
    expect(t.config.RATE_LIMIT_PER_MINUTE).toBeUndefined();

    for (let attempt = 0; attempt < 3; attempt++) expect((await models(`guess-${attempt}`)).status).toBe(401);

    const refused = await models('guess-4');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('60');
    const problem = await json<Problem>(refused);
    expect(problem).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    expect(problem.detail).toContain('AUTH_FAILURES_PER_MINUTE');

    // While the address is locked out, the right key gets the same answer as a wrong one.
    expect((await models('right-key')).status).toBe(429);
    clock.advance(45_000);
    const later = await models('guess-5');
    expect(later.status).toBe(429);
    expect(later.headers.get('retry-after')).toBe('15');

    clock.advance(15_000);
    expect((await models('right-key')).status).toBe(200);
    expect((await models('guess-6')).status).toBe(401);
  });

  it('does not count requests without credentials or with the right key', async () => {
    const clock = manualClock();
    t = await startApp({ env: { API_KEYS: 'right-key', AUTH_FAILURES_PER_MINUTE: '2' }, now: clock.now });
    for (let attempt = 0; attempt < 5; attempt++) {
      expect((await models()).status).toBe(401);
      expect((await models('right-key')).status).toBe(200);
    }
    expect((await models('guess')).status).toBe(401);
    expect((await models('guess')).status).toBe(401);
    expect((await models('guess')).status).toBe(429);
  });

  it('starts a fresh window after a quiet minute, so old failures do not add up', async () => {
    const clock = manualClock();
    t = await startApp({ env: { API_KEYS: 'right-key', AUTH_FAILURES_PER_MINUTE: '2' }, now: clock.now });
    expect((await models('guess')).status).toBe(401);
    clock.advance(60_000);
    expect((await models('guess')).status).toBe(401);
    expect((await models('guess')).status).toBe(401);
    expect((await models('guess')).status).toBe(429);
  });

  it('an invalid AUTH_FAILURES_PER_MINUTE stops the boot naming it', async () => {
    await expect(startApp({ env: { AUTH_FAILURES_PER_MINUTE: '0' } })).rejects.toThrow(
      /AUTH_FAILURES_PER_MINUTE/,
    );
  });
});
