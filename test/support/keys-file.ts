/** KEYS_FILE fixtures: a temporary file of keys, written as YAML, with the keys' hashes. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const keyHash = (key: string) => `sha256:${createHash('sha256').update(key).digest('hex')}`;

export interface KeysDir {
  /** Writes `text` to a new file and returns its path. */
  write(text: string, extension?: string): string;
  remove(): void;
}

export function keysDir(): KeysDir {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-keys-'));
  let counter = 0;
  return {
    write(text, extension = 'yaml') {
      counter += 1;
      const path = join(dir, `keys-${counter}.${extension}`);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
