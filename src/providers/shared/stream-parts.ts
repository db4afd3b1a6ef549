/**
 * The two halves of the stream contract every adapter shares: `toParts`
 * turns an adapter's own generator (which simply throws) into parts — a
 * failure before the first text throws, one after it becomes an `error`
 * part — and `collectStream` reads parts back into one result.
 */
import type { ProviderError } from '../errors.js';
import type { DeltaListener, GenerateResult, StreamPart } from '../spec.js';

export async function* toParts(
  source: AsyncIterable<StreamPart>,
  toError: (error: unknown) => ProviderError,
): AsyncGenerator<StreamPart, void, undefined> {
  let started = false;
  try {
    for await (const part of source) {
      if (part.type === 'text-delta') started = true;
      yield part;
    }
  } catch (error) {
    if (!started) throw toError(error);
    yield { type: 'error', error: toError(error) };
  }
}

/** The whole text and the finish of a stream; an `error` part (or a stream with no finish) throws. */
export async function collectStream(
  parts: AsyncIterable<StreamPart>,
  onDelta?: DeltaListener,
): Promise<GenerateResult> {
  let text = '';
  for await (const part of parts) {
    if (part.type === 'text-delta') {
      text += part.text;
      onDelta?.(part.text);
    } else if (part.type === 'finish') {
      return {
        text,
        usage: part.usage,
        finishReason: part.finishReason,
        upstreamRequestId: part.upstreamRequestId,
      };
    } else throw part.error;
  }
  throw new Error('The stream ended without a finish part.');
}
