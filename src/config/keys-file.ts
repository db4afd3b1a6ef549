import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from './env.js';
import { BUDGET_PERIODS, type ConfiguredKey } from './types.js';
import { readYamlFile } from './yaml-file.js';

const glob = z.string().min(1).max(200);

const keySchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'use letters, digits, ".", "-" and "_" (at most 64)')
      .refine((name) => !name.startsWith('key_'), 'names starting with "key_" are kept for API_KEYS keys'),
    keyHash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'write "sha256:" and the 64 lowercase hex digits of the key\'s SHA-256')
      .optional(),
    keyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, not the key itself')
      .optional(),
    budget: z
      .object({
        usd: z.number().positive().max(1_000_000_000),
        period: z.enum(BUDGET_PERIODS, { error: 'use day, month or total' }),
      })
      .strict()
      .optional(),
    models: z.array(glob).max(1000).optional(),
    patterns: z.array(glob).max(1000).optional(),
    rpm: z.number().int().min(1).max(1_000_000).optional(),
    admin: z.boolean().default(false),
  })
  .strict()
  .refine((key) => (key.keyHash === undefined) !== (key.keyEnv === undefined), {
    message: 'give exactly one of keyHash (sha256:<hex>) or keyEnv (a variable holding the key)',
    path: ['keyHash'],
  });

const keysFileSchema = z.object({ keys: z.array(keySchema) }).strict();

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Keys of API_KEYS: no limits, named by an id derived from the key (as analyses were always owned). */
export function apiKeysEntries(keys: readonly string[]): ConfiguredKey[] {
  return keys.map((key) => ({
    name: `key_${sha256Hex(`chorus-owner:${key}`).slice(0, 16)}`,
    sha256: sha256Hex(key),
    admin: false,
    source: 'API_KEYS',
  }));
}

/** Reads KEYS_FILE (YAML or JSON), resolving keyEnv from `source`; errors name file, line and field. */
export function readKeysFile(path: string, source: NodeJS.ProcessEnv): ConfiguredKey[] {
  const { data, lineOf } = readYamlFile('KEYS_FILE', path, keysFileSchema);
  return data.keys.map((key, index) => {
    const where = `${path}:${lineOf(['keys', index])}`;
    let sha256: string;
    if (key.keyEnv) {
      const value = source[key.keyEnv]?.trim();
      if (!value) {
        throw new ConfigError(
          `KEYS_FILE ${where}: keys.${index}.keyEnv: key "${key.name}" reads its key from ${key.keyEnv}, which is not set.`,
        );
      }
      sha256 = sha256Hex(value);
    } else sha256 = key.keyHash!.slice('sha256:'.length);
    return {
      name: key.name,
      sha256,
      budget: key.budget,
      models: key.models,
      patterns: key.patterns,
      rpm: key.rpm,
      admin: key.admin,
      source: where,
    };
  });
}

/** API_KEYS and KEYS_FILE together; a name or a key given twice is an error naming both places. */
export function loadKeys(apiKeys: readonly string[], path: string | undefined, source: NodeJS.ProcessEnv) {
  const keys = [...apiKeysEntries(apiKeys), ...(path ? readKeysFile(path, source) : [])];
  const names = new Map<string, string>();
  const digests = new Map<string, string>();
  for (const key of keys) {
    const sameName = names.get(key.name);
    if (sameName) {
      throw new ConfigError(`KEYS_FILE: key "${key.name}" is named twice (${sameName} and ${key.source}).`);
    }
    const sameKey = digests.get(key.sha256);
    if (sameKey) {
      throw new ConfigError(
        `KEYS_FILE: the same key is given twice (${sameKey} and ${key.source}): each key appears once.`,
      );
    }
    names.set(key.name, key.source);
    digests.set(key.sha256, key.source);
  }
  return keys;
}
