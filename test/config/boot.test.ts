/**
 * A bad configuration stops the real server process with a message naming
 * the variable on stderr (and never the secret), before it listens.
 */
import { describe, expect, it } from 'vitest';
import { runServer } from '../support/server-process.js';

describe('the server process refuses a bad configuration', () => {
  it('exits non-zero naming MODELS_FILE when the file does not exist', async () => {
    const result = await runServer({ MODELS_FILE: '/nonexistent/chorus-models.yaml' });
    expect(result.timedOut).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('MODELS_FILE');
    expect(result.stderr).toContain('/nonexistent/chorus-models.yaml');
    // A configuration error, not a crash with a stack trace.
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('exits non-zero naming STREAM_TOKEN_SECRET without printing it', async () => {
    const secret = 'short-s3cret';
    const result = await runServer({ STREAM_TOKEN_SECRET: secret, PORT: 'abc' });
    expect(result.timedOut).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('STREAM_TOKEN_SECRET');
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).not.toContain(secret);
    expect(result.stdout).not.toContain(secret);
  }, 30_000);

  it('exits non-zero naming API_KEYS when the list holds only separators', async () => {
    const result = await runServer({ API_KEYS: ' , ' });
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('API_KEYS');
  }, 30_000);

  it.each([
    ['REDIS_URL', { STORE: 'redis', REDIS_URL: 'redis://chorus:hunter2-pw@[::1:6379' }],
    ['REDIS_URL', { STORE: 'redis', REDIS_URL: 'http://:hunter2-pw@127.0.0.1:6379' }],
    ['OPENAI_BASE_URL', { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'https://proxy:hunter2-pw@[llm/v1' }],
  ])(
    'exits non-zero naming %s and masking the password of the URL',
    async (name, env) => {
      const result = await runServer(env);
      expect(result.timedOut).toBe(false);
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(name);
      expect(result.stderr).toContain('***@');
      expect(result.stderr).not.toContain('hunter2');
      expect(result.stdout).not.toContain('hunter2');
    },
    30_000,
  );
});
