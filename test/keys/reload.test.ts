/**
 * SIGHUP reloads KEYS_FILE in the real server process: a good file swaps the
 * keys, a bad one is logged (file and line) and the keys in force stay. No
 * key ever appears in what the process prints.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { keyHash, keysDir } from '../support/keys-file.js';
import { freePort, spawnServer } from '../support/server-process.js';

const files = keysDir();
afterAll(() => files.remove());

const keyFile = (name: string, key: string) => `keys:\n  - name: ${name}\n    keyHash: ${keyHash(key)}\n`;

describe('SIGHUP', () => {
  it('reloads a good KEYS_FILE and keeps the old keys when the new file is bad', async () => {
    const path = files.write(keyFile('first', 'first-secret-key'));
    const port = await freePort();
    const server = spawnServer({ KEYS_FILE: path, PORT: String(port), LOG_LEVEL: 'info' });
    try {
      await server.waitForOutput(/Chorus is serving/);
      const status = (key: string) =>
        fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: `Bearer ${key}` } }).then(
          (response) => response.status,
        );
      expect(await status('first-secret-key')).toBe(200);

      writeFileSync(path, keyFile('second', 'second-secret-key'));
      server.child.kill('SIGHUP');
      await server.waitForOutput(/API keys reloaded/);
      expect(await status('second-secret-key')).toBe(200);
      expect(await status('first-secret-key')).toBe(401);

      writeFileSync(path, 'keys:\n  - name: third\n    keyHash: not-a-hash\n');
      server.child.kill('SIGHUP');
      await server.waitForOutput(/reload failed/);
      expect(server.stdout).toContain(`${path}:3: keys.0.keyHash`);
      expect(await status('second-secret-key')).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exit;
    }
    for (const secret of ['first-secret-key', 'second-secret-key']) {
      expect(server.stdout + server.stderr).not.toContain(secret);
    }
  });
});
