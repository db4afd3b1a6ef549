/**
 * The parts of the Chat Completions wire format we depend on, checked with
 * zod (lenient about everything else, since OpenAI-compatible servers add and
 * omit fields freely), and the finish-reason mapping.
 */
import { z } from 'zod';

const usageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

export type WireUsage = z.infer<typeof usageSchema>;

export const chatCompletionSchema = z.object({
  id: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish().catch(undefined),
});

export const chatCompletionChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish().catch(undefined),
});

export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/**
 * One vocabulary for every adapter: `stop`, `length`, `content_filter`,
 * `tool_calls`, or `other`.
 */
export function mapOpenAIFinishReason(reason: string | null | undefined): string | undefined {
  switch (reason) {
    case null:
    case undefined:
      return undefined;
    case 'stop':
    case 'eos':
    case 'end_turn':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}
