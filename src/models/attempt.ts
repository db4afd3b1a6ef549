import { abortedError } from '../providers/errors.js';
import { collectStream } from '../providers/shared/stream-parts.js';
import type {
  CallOptions,
  DeltaListener,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
} from '../providers/spec.js';
import { toCallError } from './errors.js';

/**
 * One attempt of a model call: the adapter gets the call's request as it is,
 * and a signal that aborts on the job's signal or after `timeoutMs` (with a
 * TimeoutError reason, so the failure reads `timeout`, not `cancelled`). An
 * `error` part after the first text fails the attempt like any other error.
 * What it throws is a CallError (normalised here, once).
 */
export async function runAttempt(
  model: LanguageModel,
  request: GenerateRequest,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onDelta: DeltaListener,
  headers?: CallOptions['headers'],
): Promise<GenerateResult> {
  if (signal?.aborted) throw abortedError(signal);
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(new DOMException(`The model call took longer than ${timeoutMs} ms.`, 'TimeoutError')),
    timeoutMs,
  );
  const forward = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  const options: CallOptions = { signal: controller.signal, headers };
  try {
    if (model.capabilities.streaming) return await collectStream(model.stream(request, options), onDelta);
    return await model.generate(request, options);
  } catch (error) {
    throw toCallError(error, controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}
