/**
 * The two ways an adapter calls its upstream, with the failure mapping every
 * adapter applies (its own, see createErrorMapping): whatever a whole-answer
 * call throws, and whatever a stream throws, becomes a ProviderError where
 * HTTP is met — a stream's failure before its first text rejects, after it
 * an `error` part (stream-parts.ts).
 */
import type { StreamPart } from '../spec.js';
import type { ErrorContext, ErrorMapping } from './http-errors.js';
import { toParts } from './stream-parts.js';

export async function generateWith<Result>(
  mapError: ErrorMapping,
  context: ErrorContext,
  call: () => Promise<Result>,
): Promise<Result> {
  try {
    return await call();
  } catch (error) {
    throw mapError(error, context);
  }
}

export function streamWith(
  mapError: ErrorMapping,
  context: ErrorContext,
  produce: () => AsyncIterable<StreamPart>,
): AsyncIterable<StreamPart> {
  return toParts(produce(), (error) => mapError(error, context));
}
