/**
 * KEYS_FILE at boot: YAML and JSON, merged with API_KEYS, and boot errors that
 * name the file, the line and the field — never the key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { configError } from '../support/config.js';
import { keyHash, keysDir } from '../support/keys-file.js';

const files = keysDir();
afterAll(() => files.remove());

describe('KEYS_FILE', () => {
  it('reads named keys with their limits, from hashes and from variables, beside API_KEYS', () => {
    const path = files.write(
      [
        'keys:',
        '  - name: research',
        `    keyHash: ${keyHash('research-key')}`,
        '    budget: { usd: 25, period: month }',
        '    models: ["sim/*"]',
        '    patterns: [standard, council]',
        '    rpm: 120',
        '  - name: ops',
        '    keyEnv: OPS_KEY',
        '    admin: true',
      ].join('\n'),
    );
    const config = loadConfig({ KEYS_FILE: path, OPS_KEY: 'ops-secret', API_KEYS: 'plain' });
    expect(config.keys.map((key) => key.name)).toEqual([
      expect.stringMatching(/^key_[0-9a-f]{16}$/),
      'research',
      'ops',
    ]);
    const research = config.keys[1]!;
    expect(research).toMatchObject({
      budget: { usd: 25, period: 'month' },
      models: ['sim/*'],
      patterns: ['standard', 'council'],
      rpm: 120,
      admin: false,
      source: `${path}:2`,
    });
    expect(config.keys[2]).toMatchObject({
      name: 'ops',
      admin: true,
      sha256: keyHash('ops-secret').slice(7),
    });
    expect(JSON.stringify(config.keys)).not.toContain('ops-secret');
    expect(config.warnings.join(' ')).not.toContain('authentication is off');
  });

  it('reads JSON too', () => {
    const path = files.write(JSON.stringify({ keys: [{ name: 'a', keyHash: keyHash('x') }] }), 'json');
    expect(loadConfig({ KEYS_FILE: path }).keys.map((key) => key.name)).toEqual(['a']);
  });

  it('stops the boot naming file, line and field of a bad value', () => {
    const path = files.write(
      ['keys:', '  - name: a', `    keyHash: ${keyHash('a')}`, '    budget: { usd: 5, period: week }'].join(
        '\n',
      ),
    );
    const { message } = configError({ KEYS_FILE: path });
    expect(message).toContain(`${path}:4: keys.0.budget.period: use day, month or total`);
  });

  it('refuses a key without a hash or variable, and a hash that is not sha256 hex', () => {
    const none = files.write(['keys:', '  - name: a', '    rpm: 5'].join('\n'));
    expect(configError({ KEYS_FILE: none }).message).toMatch(
      /:2: keys\.0\.keyHash: give exactly one of keyHash/,
    );
    const raw = files.write(['keys:', '  - name: a', '    keyHash: my-plain-key'].join('\n'));
    const { message } = configError({ KEYS_FILE: raw });
    expect(message).toContain(`${raw}:3: keys.0.keyHash:`);
    expect(message).not.toContain('my-plain-key');
  });

  it('names the variable a keyEnv reads when it is not set', () => {
    const path = files.write(['keys:', '  - name: a', '    keyEnv: MISSING_KEY'].join('\n'));
    expect(configError({ KEYS_FILE: path }).message).toContain(`${path}:2: keys.0.keyEnv`);
  });

  it('refuses a name twice and a key twice, naming both places', () => {
    const names = files.write(
      [
        'keys:',
        '  - name: a',
        `    keyHash: ${keyHash('1')}`,
        '  - name: a',
        `    keyHash: ${keyHash('2')}`,
      ].join('\n'),
    );
    expect(configError({ KEYS_FILE: names }).message).toContain(
      `"a" is named twice (${names}:2 and ${names}:4)`,
    );
    const same = files.write(['keys:', '  - name: a', '    keyEnv: K'].join('\n'));
    expect(configError({ KEYS_FILE: same, K: 'shared', API_KEYS: 'shared' }).message).toContain(
      `the same key is given twice (API_KEYS and ${same}:2)`,
    );
  });

  it('is a boot error when the file cannot be read, or is not YAML', () => {
    expect(configError({ KEYS_FILE: '/nonexistent/keys.yaml' }).message).toContain('KEYS_FILE: cannot read');
    const broken = files.write('keys:\n  - name: [a\n');
    expect(configError({ KEYS_FILE: broken }).message).toMatch(new RegExp(`KEYS_FILE ${broken}:\\d+`));
  });
});
