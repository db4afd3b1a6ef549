/**
 * The parts of the Messages API wire format we depend on (zod, lenient about
 * the rest), and the usage arithmetic.
 */
import { z } from 'zod';
import type { Usage } from '../spec.js';

const count = z.number().int().nonnegative();

const startUsageSchema = z.object({
  input_tokens: count,
  output_tokens: count.nullish(),
  cache_creation_input_tokens: count.nullish(),
  cache_read_input_tokens: count.nullish(),
});

export const messageSchema = z.object({
  id: z.string().optional(),
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullish(),
  usage: startUsageSchema,
});

const deltaUsageSchema = z.object({
  output_tokens: count,
  input_tokens: count.nullish(),
  cache_creation_input_tokens: count.nullish(),
  cache_read_input_tokens: count.nullish(),
});

export const streamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ usage: startUsageSchema }) }),
  z.object({
    type: z.literal('content_block_start'),
    content_block: z.object({ type: z.string(), text: z.string().optional() }),
  }),
  z.object({
    type: z.literal('content_block_delta'),
    delta: z.object({ type: z.string(), text: z.string().optional() }),
  }),
  z.object({ type: z.literal('content_block_stop') }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: z.string().nullish() }),
    usage: deltaUsageSchema,
  }),
  z.object({ type: z.literal('message_stop') }),
]);

export type StreamEvent = z.infer<typeof streamEventSchema>;
type StartUsage = z.infer<typeof startUsageSchema>;
type DeltaUsage = z.infer<typeof deltaUsageSchema>;

/** Input tokens include the tokens written to and read from the prompt cache. */
function inputTokens(usage: StartUsage | DeltaUsage): number {
  return (
    (usage.input_tokens ?? 0) +
    (usage.cache_creation_input_tokens ?? 0) +
    (usage.cache_read_input_tokens ?? 0)
  );
}

export function usageFromMessage(usage: StartUsage): Usage {
  return { inputTokens: inputTokens(usage), outputTokens: usage.output_tokens ?? 0 };
}

/**
 * Usage across a stream. `message_start` gives the input (and a provisional
 * output count); the counts on `message_delta` are cumulative, so they
 * REPLACE what came before — adding them would count the output twice.
 */
export class StreamUsage {
  private input = 0;
  private output = 0;
  private sawStart = false;

  start(usage: StartUsage): void {
    this.sawStart = true;
    this.input = inputTokens(usage);
    this.output = usage.output_tokens ?? 0;
  }

  delta(usage: DeltaUsage): void {
    this.output = usage.output_tokens;
    // Newer API versions repeat the (cumulative) input counts here too.
    if (usage.input_tokens !== null && usage.input_tokens !== undefined) this.input = inputTokens(usage);
  }

  get started(): boolean {
    return this.sawStart;
  }

  toUsage(): Usage {
    return { inputTokens: this.input, outputTokens: this.output };
  }
}
