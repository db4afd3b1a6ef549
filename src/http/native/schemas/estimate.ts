import { z } from 'zod';

export const estimateSchema = z
  .object({
    calls: z.number().int().describe('model calls the analysis makes when every model answers'),
    stages: z.array(
      z.object({
        name: z.string(),
        calls: z.number().int(),
        inputTokens: z.number().int(),
        maxOutputTokens: z.number().int(),
      }),
    ),
    inputTokens: z
      .number()
      .int()
      .describe("input tokens of every call, earlier stages' outputs counted at their maxTokens"),
    maxOutputTokens: z.number().int(),
    costUsd: z.object({
      expected: z.number().describe('with the output lengths observed per model'),
      max: z.number().describe('if every call writes its maxTokens: what a budget reserves'),
    }),
    tokenizer: z.string().describe('what counted the input tokens; "estimate" for families without one'),
  })
  .meta({ id: 'Estimate' });
