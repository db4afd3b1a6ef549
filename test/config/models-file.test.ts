/**
 * MODELS_FILE: YAML and JSON parsed with their defaults, merged with the
 * environment, and boot errors that name the file and line (and never the
 * secrets).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { readModelsFile } from '../../src/config/models-file.js';
import { configError, providerNamed } from '../support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'chorus-models-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(text: string, extension = 'yaml'): string {
  counter += 1;
  const path = join(dir, `models-${counter}.${extension}`);
  writeFileSync(path, text);
  return path;
}

/** The (1-based) line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`"${needle}" is not in the file`);
  return index + 1;
}

/** Writes `text` as a MODELS_FILE and returns the boot error it causes, and where in the file it points. */
function fileError(text: string, env: Record<string, string> = {}, extension = 'yaml') {
  const path = write(text, extension);
  const { message } = configError({ MODELS_FILE: path, ...env });
  return {
    path,
    message,
    at: (needle: string | number) => `${path}:${typeof needle === 'number' ? needle : lineOf(text, needle)}`,
  };
}

const YAML = `# Chorus models
providers:
  - name: local                 # its models are local/<id>
    kind: openai-compatible
    baseURL: http://127.0.0.1:11434/v1
    apiKeyEnv: LOCAL_API_KEY
    rpm: 600
    concurrency: 8
    timeoutMs: 60000
    models:
      - id: llama3.2
        weight: 2
        contextWindow: 128000
        maxOutputTokens: 4096
        inputCostPerMTok: 0.1
        outputCostPerMTok: 0.4
        tags: [local, cheap]
      - id: deepseek-r1:8b
        reasoning: true
  - name: sim
    kind: sim
    models:
      - { id: slow, latencyMs: 3000 }
      - { id: flaky, latencyMs: 50, failureRate: 0.5 }
`;

describe('MODELS_FILE: YAML', () => {
  it('parses providers and models with their defaults', () => {
    const path = write(YAML);
    const config = loadConfig({ MODELS_FILE: path, LOCAL_API_KEY: 'local-secret' });
    expect(config.simulatorOnly).toBe(false);
    expect(config.providers.map((provider) => provider.name)).toEqual(['local', 'sim']);
    // No simulator warning: a file provider of kind sim is an ordinary configured provider.
    expect(config.warnings.some((warning) => /simulator/i.test(warning))).toBe(false);

    const local = providerNamed(config, 'local')!;
    expect(local).toMatchObject({
      kind: 'openai-compatible',
      baseURL: 'http://127.0.0.1:11434/v1',
      apiKeyEnv: 'LOCAL_API_KEY',
      apiKey: 'local-secret',
      rpm: 600,
      concurrency: 8,
      timeoutMs: 60_000,
      source: `${path}:${lineOf(YAML, '- name: local')}`,
    });
    expect(local.models).toEqual([
      {
        id: 'llama3.2',
        weight: 2,
        contextWindow: 128_000,
        maxOutputTokens: 4096,
        inputCostPerMTok: 0.1,
        outputCostPerMTok: 0.4,
        tags: ['local', 'cheap'],
      },
      {
        id: 'deepseek-r1:8b',
        weight: 1,
        inputCostPerMTok: 0,
        outputCostPerMTok: 0,
        tags: [],
        reasoning: true,
      },
    ]);

    const sim = providerNamed(config, 'sim')!;
    expect(sim.kind).toBe('sim');
    expect(sim.apiKey).toBeUndefined();
    // The provider default timeout when the file sets none.
    expect(sim.timeoutMs).toBe(120_000);
    expect(sim.source).toBe(`${path}:${lineOf(YAML, '- name: sim')}`);
    expect(sim.models).toEqual([
      { id: 'slow', weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [], latencyMs: 3000 },
      {
        id: 'flaky',
        weight: 1,
        inputCostPerMTok: 0,
        outputCostPerMTok: 0,
        tags: [],
        latencyMs: 50,
        failureRate: 0.5,
      },
    ]);
  });

  it('gives each provider the line it starts on', () => {
    const providers = readModelsFile(write(YAML));
    expect(providers.map((provider) => [provider.name, provider.line])).toEqual([
      ['local', lineOf(YAML, '- name: local')],
      ['sim', lineOf(YAML, '- name: sim')],
    ]);
  });

  it('an openai-compatible provider needs no key', () => {
    const text = `providers:
  - name: ollama
    kind: openai-compatible
    baseURL: http://127.0.0.1:11434/v1
    models:
      - id: llama3.2
`;
    const ollama = providerNamed(loadConfig({ MODELS_FILE: write(text) }), 'ollama')!;
    expect(ollama.apiKey).toBeUndefined();
    expect(ollama.apiKeyEnv).toBeUndefined();
  });

  it('merges with the providers of the environment', () => {
    const config = loadConfig({
      MODELS_FILE: write(YAML),
      LOCAL_API_KEY: 'local-secret',
      OPENAI_API_KEY: 'sk-env',
    });
    expect(config.providers.map((provider) => provider.name)).toEqual(['openai', 'local', 'sim']);
  });
});

describe('MODELS_FILE: JSON', () => {
  const JSON_TEXT = `{
  "providers": [
    {
      "name": "local",
      "kind": "openai-compatible",
      "baseURL": "http://127.0.0.1:11434/v1",
      "concurrency": 8,
      "timeoutMs": 60000,
      "models": [
        { "id": "llama3.2", "weight": 2, "contextWindow": 128000, "tags": ["local"] },
        { "id": "qwen3" }
      ]
    },
    {
      "name": "claude",
      "kind": "anthropic",
      "apiKeyEnv": "CLAUDE_KEY",
      "models": [{ "id": "claude-haiku-4-5", "outputCostPerMTok": 5 }]
    }
  ]
}
`;

  it('parses the same shape with the same defaults', () => {
    const path = write(JSON_TEXT, 'json');
    const config = loadConfig({ MODELS_FILE: path, CLAUDE_KEY: 'sk-ant-file' });
    expect(config.providers.map((provider) => provider.name)).toEqual(['local', 'claude']);
    const local = providerNamed(config, 'local')!;
    expect(local).toMatchObject({ concurrency: 8, timeoutMs: 60_000, apiKey: undefined });
    expect(local.source).toBe(`${path}:${lineOf(JSON_TEXT, '"name": "local"') - 1}`);
    expect(local.models).toEqual([
      {
        id: 'llama3.2',
        weight: 2,
        contextWindow: 128_000,
        inputCostPerMTok: 0,
        outputCostPerMTok: 0,
        tags: ['local'],
      },
      { id: 'qwen3', weight: 1, inputCostPerMTok: 0, outputCostPerMTok: 0, tags: [] },
    ]);
    const claude = providerNamed(config, 'claude')!;
    expect(claude).toMatchObject({ kind: 'anthropic', apiKey: 'sk-ant-file', apiKeyEnv: 'CLAUDE_KEY' });
    expect(claude.models[0]).toMatchObject({ outputCostPerMTok: 5, inputCostPerMTok: 0, weight: 1 });
  });

  it('names the file and line of a JSON provider that breaks a rule', () => {
    const text = `{
  "providers": [
    {
      "name": "local",
      "kind": "openai-compatible",
      "models": [{ "id": "a" }]
    }
  ]
}
`;
    const { message, at } = fileError(text, {}, 'json');
    expect(message).toContain(at(3));
    expect(message).toContain('baseURL');
  });
});

describe('MODELS_FILE: boot errors name the file and line', () => {
  it('an unknown provider kind', () => {
    const text = `providers:
  - name: local
    kind: openai-compatible
    baseURL: http://127.0.0.1:11434/v1
    models:
      - id: llama3.2
  - name: weird
    kind: bogus
    models:
      - id: x
`;
    const { message, at } = fileError(text);
    expect(message).toContain(at('kind: bogus'));
    expect(message).toMatch(/kind/);
    expect(message).toContain('openai-compatible');
  });

  it('a provider name used by the environment too', () => {
    const text = `providers:
  - name: openai
    kind: openai
    apiKeyEnv: SECOND_OPENAI_KEY
    models:
      - id: gpt-4.1
`;
    const { message, at } = fileError(text, {
      OPENAI_API_KEY: 'sk-env-key-111',
      SECOND_OPENAI_KEY: 'sk-file-key-222',
    });
    expect(message).toContain('"openai"');
    expect(message).toContain(at(2));
    expect(message).toContain('OPENAI_API_KEY');
    expect(message).not.toContain('sk-env-key-111');
    expect(message).not.toContain('sk-file-key-222');
  });

  it('a provider name used twice in the file', () => {
    const text = `providers:
  - name: local
    kind: sim
    models: [{ id: a }]
  - name: local
    kind: sim
    models: [{ id: b }]
`;
    const { message, at } = fileError(text);
    expect(message).toContain('"local"');
    expect(message).toContain(at(2));
    expect(message).toContain(at(5));
  });

  it('a model listed twice in one provider', () => {
    const text = `providers:
  - name: local
    kind: sim
    models: [{ id: a }, { id: a }]
`;
    const { message, at } = fileError(text);
    expect(message).toContain('"a"');
    expect(message).toContain(at(2));
  });

  it('a key variable that is not set', () => {
    const text = `providers:
  - name: local
    kind: openai-compatible
    baseURL: http://127.0.0.1:11434/v1
    models:
      - id: llama3.2
  - name: groq
    kind: openai-compatible
    baseURL: https://api.groq.com/openai/v1
    apiKeyEnv: MISSING_KEY
    models:
      - id: llama-3.3-70b
`;
    const { path, message, at } = fileError(text);
    expect(message).toContain('MISSING_KEY');
    expect(message).toContain(at('- name: groq'));
    // Set but blank counts as unset.
    expect(configError({ MODELS_FILE: path, MISSING_KEY: '  ' }).message).toContain('MISSING_KEY');
    expect(providerNamed(loadConfig({ MODELS_FILE: path, MISSING_KEY: 'gsk-1' }), 'groq')?.apiKey).toBe(
      'gsk-1',
    );
  });

  /** Files that must not boot: what the error names, and the lines it points at. */
  const BAD_FILES: Array<{ title: string; names: string[]; lines: Array<string | number>; text: string }> = [
    {
      title: 'an openai or anthropic provider without apiKeyEnv',
      names: ['apiKeyEnv'],
      lines: [2],
      text: `providers:
  - name: oa
    kind: openai
    models: [{ id: gpt-4.1 }]
`,
    },
    {
      title: 'an openai-compatible provider without baseURL',
      names: ['baseURL'],
      lines: ['- name: local'],
      text: `providers:
  - name: sim
    kind: sim
    models: [{ id: a }]
  - name: local
    kind: openai-compatible
    models:
      - id: llama3.2
`,
    },
    {
      title: 'a value of the wrong type, at its own line',
      names: ['weight'],
      lines: ['weight: heavy'],
      text: `providers:
  - name: local
    kind: sim
    models:
      - id: a
        weight: heavy
`,
    },
    {
      title: 'a misspelled field is named',
      names: ['wieght'],
      lines: [],
      text: `providers:
  - name: local
    kind: sim
    models:
      - id: a
        wieght: 2
`,
    },
    {
      title: 'malformed YAML, with its line',
      names: ['MODELS_FILE'],
      lines: [4],
      text: `providers:
  - name: local
    kind: sim
    kind: openai
    models: [{ id: a }]
`,
    },
  ];

  it.each(BAD_FILES)('$title', ({ names, lines, text }) => {
    const { path, message, at } = fileError(text);
    for (const name of names) expect(message).toContain(name);
    expect(message).toContain(path);
    for (const line of lines) expect(message).toContain(at(line));
  });

  it('malformed YAML: an unclosed flow sequence', () => {
    const text = `providers:
  - name: local
    kind: sim
    models: [{ id: a }
`;
    const { path, message } = fileError(text);
    expect(message).toContain('MODELS_FILE');
    expect(message).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[45]\\b`));
  });

  it('a file that cannot be read names MODELS_FILE', () => {
    const { message } = configError({ MODELS_FILE: join(dir, 'does-not-exist.yaml') });
    expect(message).toContain('MODELS_FILE');
    expect(message).toContain('does-not-exist.yaml');
  });

  it('an empty file is invalid, not a silent simulator', () => {
    const { message } = fileError('');
    expect(message).toContain('MODELS_FILE');
  });
});

describe('MODELS_FILE: secrets are never echoed', () => {
  /** A file of one local openai-compatible provider with one more field. */
  const localProviderWith = (field: string) => `providers:
  - name: local
    kind: openai-compatible
    baseURL: http://127.0.0.1:11434/v1
    ${field}
    models: [{ id: a }]
`;

  it('a key pasted into apiKeyEnv is refused without repeating it', () => {
    const secret = 'sk-live-abcdef0123456789';
    const text = localProviderWith(`apiKeyEnv: ${secret}`);
    const { message, at } = fileError(text);
    expect(message).toContain('apiKeyEnv');
    expect(message).toContain(at('apiKeyEnv'));
    expect(message).not.toContain(secret);
    expect(message).not.toContain('abcdef0123456789');
  });

  it('a key written into the file as apiKey is refused without repeating it', () => {
    const secret = 'sk-live-zyxw9876543210';
    const text = localProviderWith(`apiKey: ${secret}`);
    const { message } = fileError(text);
    expect(message).toContain('apiKey');
    expect(message).not.toContain(secret);
  });

  it('a key that is set is not echoed by an error elsewhere in the file', () => {
    const text = `providers:
  - name: groq
    kind: openai-compatible
    baseURL: https://api.groq.com/openai/v1
    apiKeyEnv: GROQ_API_KEY
    models: [{ id: a, weight: -1 }]
`;
    const { message } = fileError(text, { GROQ_API_KEY: 'gsk-very-secret-42' });
    expect(message).toContain('weight');
    expect(message).not.toContain('gsk-very-secret-42');
  });
});
