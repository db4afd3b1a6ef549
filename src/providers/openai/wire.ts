/**
 * The parts of the Chat Completions wire format we depend on, checked with
 * zod (lenient about everything else, since OpenAI-compatible servers add and
 * omit fields freely).
 */
import { z } from 'zod';
import { isRecord } from '../../util/is-record.js';

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

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * The same check as `chatCompletionChunkSchema`, written out by hand: it runs
 * on every streamed chunk of every call, where a schema parse costs more than
 * the rest of the chunk's handling. Undefined when the chunk does not match;
 * the caller then asks the schema for the error it reports.
 */
export function readChunk(chunk: unknown): ChatCompletionChunk | undefined {
  if (!isRecord(chunk)) return undefined;
  const choices = chunk.choices;
  if (choices !== null && choices !== undefined) {
    if (!Array.isArray(choices)) return undefined;
    for (const choice of choices) {
      if (!isRecord(choice)) return undefined;
      const delta = choice.delta;
      if (delta !== null && delta !== undefined) {
        if (!isRecord(delta)) return undefined;
        if (delta.content !== null && delta.content !== undefined && typeof delta.content !== 'string')
          return undefined;
      }
      const reason = choice.finish_reason;
      if (reason !== null && reason !== undefined && typeof reason !== 'string') return undefined;
    }
  }
  const usage = chunk.usage;
  const validUsage =
    usage === null
      ? null
      : isRecord(usage) && isCount(usage.prompt_tokens) && isCount(usage.completion_tokens)
        ? { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens }
        : undefined;
  return { choices: choices as ChatCompletionChunk['choices'], usage: validUsage };
}
