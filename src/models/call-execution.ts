/**
 * The execution one shared call runs: the retry loop (backoff with jitter,
 * honours `retry-after`) → breaker open? fail fast → provider limits → the
 * model's breaker → one attempt with its own timeout. Everything it learns
 * goes to the shared call (attempts, text, retries), to the model's stats,
 * the observer and the log.
 */
import type { GenerateRequest, GenerateResult } from '../providers/spec.js';
import { runAttempt } from './attempt.js';
import type { CallError } from './errors.js';
import type { Logger } from './logger.js';
import type { CallObserver } from './observer.js';
import type { RegisteredModel } from './registry.js';
import type { ModelBreaker } from './resilience/breaker.js';
import type { ProviderLimiter } from './resilience/limiter.js';
import { type RetryOptions, retryWithBackoff } from './resilience/retry.js';
import type { ModelStatsRegistry } from './resilience/stats.js';
import type { SharedExecution } from './shared-calls.js';

/** How calls to one model are made: passed in, per model, when the caller is built. */
export interface CallPolicy {
  /** Per-attempt timeout, unless a call sets its own. */
  timeoutMs: number;
  retry: Omit<RetryOptions, 'signal' | 'onRetry'>;
}

/** One model with everything a call to it goes through. */
export interface ModelRoute {
  model: RegisteredModel;
  policy: CallPolicy;
  breaker: ModelBreaker;
  limiter: ProviderLimiter;
}

export interface ExecutionContext {
  stats: ModelStatsRegistry;
  observer: CallObserver | undefined;
  logger: Logger;
  now: () => number;
}

export interface ExecutionInput {
  route: ModelRoute;
  request: GenerateRequest;
  /** The call's own timeout, if it asked for one. */
  timeoutMs: number | undefined;
  /** For log lines. */
  analysisId: string;
  /** Extra headers of every upstream request (the trace context). */
  headers?: Readonly<Record<string, string>> | undefined;
}

export function executeCall(
  context: ExecutionContext,
  input: ExecutionInput,
  shared: SharedExecution,
): Promise<GenerateResult> {
  const { route, request } = input;
  const { model, breaker, limiter, policy } = route;
  const timeoutMs = input.timeoutMs ?? policy.timeoutMs;
  const onDelta = (text: string) => shared.delta(text);
  const attemptNumbered = (number: number) => async (signal: AbortSignal | undefined) => {
    shared.attemptStarted(number);
    const began = context.now();
    try {
      const result = await runAttempt(
        model.languageModel,
        request,
        timeoutMs,
        signal,
        onDelta,
        input.headers,
      );
      finished(context, input, 'success', began);
      return result;
    } catch (error) {
      const failure = error as CallError;
      finished(
        context,
        input,
        failure.code === 'cancelled' ? 'cancelled' : 'failure',
        began,
        failure,
        number,
      );
      throw failure;
    }
  };
  return retryWithBackoff(
    (number, signal) => {
      if (breaker.isOpen()) throw breaker.openError();
      return limiter.schedule(() => breaker.execute(attemptNumbered(number), signal), signal);
    },
    {
      ...policy.retry,
      signal: shared.signal,
      onRetry: ({ attempt: failed, error, delayMs }) => {
        // Only a CallError is ever retried.
        const failure = error as CallError;
        context.observer?.retried(model.id, failure.code);
        shared.retrying(failure, failed, delayMs);
      },
    },
  );
}

function finished(
  context: ExecutionContext,
  input: ExecutionInput,
  outcome: 'success' | 'failure' | 'cancelled',
  began: number,
  failure?: CallError,
  attempt?: number,
): void {
  const model = input.route.model;
  const elapsed = context.now() - began;
  context.stats.record(model.id, outcome, elapsed);
  context.observer?.attemptFinished(model.id, outcome, elapsed / 1000, failure?.code);
  if (outcome !== 'failure' || !failure) return;
  context.logger.warn(
    {
      analysisId: input.analysisId,
      model: model.id,
      attempt,
      code: failure.code,
      status: failure.status,
      upstreamRequestId: failure.upstreamRequestId,
      retryable: failure.retryable,
    },
    'model call failed',
  );
}
