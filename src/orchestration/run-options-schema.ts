/**
 * The options of a run as a zod schema: what `POST /v1/analyses` takes in
 * `options`, and what a pattern's `defaults.options` may preset.
 */
import { z } from 'zod';

export const runOptionsSchema = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().min(1).max(32_000).optional(),
    timeoutMs: z.number().int().min(100).max(600_000).optional().describe('per model call attempt'),
    cache: z.boolean().optional().describe('reuse identical successful model calls (default true)'),
    minResponses: z.number().int().min(1).max(12).optional().describe('quorum per fan-out stage (default 1)'),
    maxCostUsd: z.number().positive().max(1_000_000).optional(),
  })
  .strict();

export const RUN_OPTION_KEYS = Object.keys(runOptionsSchema.shape);

/** A model id as requests and pattern defaults name it. */
export const modelIdSchema = z
  .string()
  .min(3)
  .max(200)
  .regex(/^[^/\s]+\/\S+$/, 'a model id is "provider/model"');

/** 1–12 unique model ids. */
export const modelListSchema = z
  .array(modelIdSchema)
  .min(1)
  .max(12)
  .refine((models) => new Set(models).size === models.length, 'models must be unique');
