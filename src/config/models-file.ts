import { z } from 'zod';
import { PROVIDER_KINDS } from './types.js';
import { readYamlFile } from './yaml-file.js';

const modelSchema = z
  .object({
    id: z.string().min(1).max(200),
    weight: z.number().min(0).max(1_000_000).default(1),
    contextWindow: z.number().int().positive().optional(),
    maxOutputTokens: z.number().int().positive().optional(),
    inputCostPerMTok: z.number().min(0).default(0),
    outputCostPerMTok: z.number().min(0).default(0),
    tags: z.array(z.string().min(1).max(100)).max(50).default([]),
    reasoning: z.boolean().optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    failureRate: z.number().min(0).max(1).optional(),
  })
  .strict();

const providerSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,63}$/,
        'use lowercase letters, digits, "-" and "_" (it prefixes model ids)',
      ),
    kind: z.enum(PROVIDER_KINDS, {
      error: 'unknown provider kind: use openai, anthropic, openai-compatible or sim',
    }),
    baseURL: z.url().optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, not the key itself')
      .optional(),
    rpm: z.number().int().positive().optional(),
    concurrency: z.number().int().positive().max(10_000).optional(),
    timeoutMs: z.number().int().positive().max(3_600_000).optional(),
    models: z.array(modelSchema).min(1, 'list at least one model'),
  })
  .strict();

export const modelsFileSchema = z.object({ providers: z.array(providerSchema) }).strict();

export type ModelsFileProvider = z.output<typeof providerSchema> & { line: number };

/** Reads MODELS_FILE (YAML or JSON; JSON is YAML) and validates it, naming file and line on error. */
export function readModelsFile(path: string): ModelsFileProvider[] {
  const { data, lineOf } = readYamlFile('MODELS_FILE', path, modelsFileSchema);
  return data.providers.map((provider, index) => ({
    ...provider,
    line: lineOf(['providers', index]),
  }));
}
