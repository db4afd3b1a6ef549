/**
 * One circuit breaker per model, over opossum (v9).
 *
 * What opossum sees: every call that reaches the upstream and ends in a
 * success or an upstream error. What it never sees: a cancelled call.
 * opossum's `errorFilter` cannot be used for cancellations — an excused error
 * is reported as a *success*, which closes a half-open breaker. So a cancelled
 * call's outcome is simply never handed to opossum (its action promise stays
 * pending; the `fire` it counted is taken back out of the rolling window).
 *
 * The half-open trap: in half-open opossum lets exactly one trial call through
 * and rejects every other until that trial settles. A trial that never settles
 * would leave the breaker half-open and rejecting for ever. So a cancelled
 * trial is kept as a spare, and the next call runs as the trial in its place
 * and settles it; the breaker stays half-open meanwhile.
 *
 * Errors the policy table does not count (`countsForBreaker`: a 4xx such as bad_request) reach
 * opossum as excused errors, i.e. as successes: the upstream answered.
 * Each attempt is timed by its own AbortController elsewhere (`timeout: false`).
 */
import CircuitBreaker from 'opossum';
import { cancelledError, isProviderError } from '../../providers/errors.js';
import { type CallError, countsForBreaker, isCallError, ModelError } from '../errors.js';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface ModelBreakerOptions {
  /** `provider/model`, named in the circuit_open error. */
  modelId: string;
  provider?: string | undefined;
  /** Failure percentage (of calls in the window) above which the breaker opens. */
  errorThresholdPercentage?: number | undefined;
  /** The rolling window, in milliseconds. */
  rollingCountTimeoutMs?: number | undefined;
  rollingCountBuckets?: number | undefined;
  /** Calls in the window before the breaker may open at all. */
  volumeThreshold?: number | undefined;
  /** How long the breaker stays open before it lets one trial call through. */
  resetTimeoutMs?: number | undefined;
  /** Which errors count as upstream failures (defaults to the policy table's `countsForBreaker`). */
  countsAsFailure?: ((error: unknown) => boolean) | undefined;
}

export const defaultBreakerOptions = Object.freeze({
  errorThresholdPercentage: 50,
  rollingCountTimeoutMs: 30_000,
  rollingCountBuckets: 10,
  volumeThreshold: 5,
  resetTimeoutMs: 15_000,
});

export interface BreakerStats {
  state: BreakerState;
  /** Calls in the rolling window that reached the breaker (rejected ones included, cancelled ones not). */
  requests: number;
  failures: number;
  successes: number;
  /** Calls failed fast with circuit_open. */
  rejections: number;
}

export type BreakerStateListener = (state: BreakerState) => void;

/** The call that opossum's action stands for: its outcome is handed over here, or never. */
interface Ticket {
  pass: () => void;
  fail: (error: unknown) => void;
  /** opossum's promise for the call: settles once opossum has counted the outcome. */
  counted: Promise<void>;
  /** The window bucket its `fire` was counted in. */
  bucket: CircuitBreaker.Bucket | undefined;
}

interface Binding {
  bind(pass: () => void, fail: (error: unknown) => void): void;
}

export class ModelBreaker {
  readonly #circuit: CircuitBreaker<[Binding], void>;
  readonly #modelId: string;
  readonly #provider: string | undefined;
  readonly #listeners = new Set<BreakerStateListener>();
  /** A cancelled half-open trial, waiting for the next call to settle it. */
  #spareTrial: Ticket | undefined;

  constructor(options: ModelBreakerOptions) {
    this.#modelId = options.modelId;
    this.#provider = options.provider;
    const countsAsFailure = options.countsAsFailure ?? countsForBreaker;
    this.#circuit = new CircuitBreaker<[Binding], void>(
      (binding) => new Promise<void>((resolve, reject) => binding.bind(resolve, reject)),
      {
        name: options.modelId,
        timeout: false,
        errorThresholdPercentage:
          options.errorThresholdPercentage ?? defaultBreakerOptions.errorThresholdPercentage,
        rollingCountTimeout: options.rollingCountTimeoutMs ?? defaultBreakerOptions.rollingCountTimeoutMs,
        rollingCountBuckets: options.rollingCountBuckets ?? defaultBreakerOptions.rollingCountBuckets,
        volumeThreshold: options.volumeThreshold ?? defaultBreakerOptions.volumeThreshold,
        resetTimeout: options.resetTimeoutMs ?? defaultBreakerOptions.resetTimeoutMs,
        errorFilter: (error: unknown) => !countsAsFailure(error),
        enableSnapshots: false,
        rollingPercentilesEnabled: false,
      },
    );
    const changed = (): void => {
      this.#dropSpareTrial();
      const state = this.state();
      for (const listener of [...this.#listeners]) listener(state);
    };
    this.#circuit.on('open', changed);
    this.#circuit.on('halfOpen', changed);
    this.#circuit.on('close', changed);
  }

  state(): BreakerState {
    if (this.#circuit.halfOpen) return 'halfOpen';
    if (this.#circuit.closed) return 'closed';
    return 'open';
  }

  /**
   * True when a call now would fail fast: open, or half-open with its one
   * trial already under way. Check it before waiting for a rate-limit slot.
   */
  isOpen(): boolean {
    const circuit = this.#circuit;
    if (circuit.closed) return false;
    if (circuit.halfOpen) return !circuit.pendingClose && this.#spareTrial === undefined;
    return true;
  }

  /** The error a call gets when the breaker is open. */
  openError(): ModelError {
    return new ModelError(
      'circuit_open',
      `${this.#modelId} is failing too often; calls are paused for a moment.`,
      this.#provider,
    );
  }

  stats(): BreakerStats {
    const stats = this.#circuit.stats;
    return {
      state: this.state(),
      requests: stats.fires,
      failures: stats.failures,
      successes: stats.successes,
      rejections: stats.rejects,
    };
  }

  /** Listens to state changes; returns the function that stops listening. */
  onStateChange(listener: BreakerStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops the breaker's timers. Later calls fail with `shutdown`. */
  shutdown(): void {
    this.#spareTrial = undefined;
    this.#listeners.clear();
    this.#circuit.shutdown();
  }

  /**
   * Runs `fn` through the breaker: fails fast with circuit_open (without
   * calling `fn`) when open. `signal` is the caller's cancellation; a
   * cancelled call rejects with `cancelled` and opossum never sees it.
   */
  execute<T>(fn: (signal: AbortSignal | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    return new Promise<T>((resolve, reject) => {
      let ticket: Ticket | undefined;
      let isTrial = false;
      let finished = false;
      const finish = (): boolean => {
        if (finished) return false;
        finished = true;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (!finish()) return;
        if (ticket) this.#abandon(ticket, isTrial);
        reject(cancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      const run = (taken: Ticket): void => {
        ticket = taken;
        let promise: Promise<T>;
        try {
          promise = fn(signal);
        } catch (error) {
          promise = Promise.reject(error);
        }
        promise.then(
          (value) => {
            if (!finish()) return;
            taken.pass();
            // Settle the caller once opossum has counted the outcome (state is current).
            taken.counted.then(
              () => resolve(value),
              () => resolve(value),
            );
          },
          (error: unknown) => {
            if (!finish()) return;
            if (isProviderError(error) && error.code === 'cancelled') {
              this.#abandon(taken, isTrial);
              reject(error);
              return;
            }
            taken.fail(error);
            taken.counted.then(
              () => reject(error),
              () => reject(error),
            );
          },
        );
      };

      const spare = this.#takeSpareTrial();
      if (spare) {
        isTrial = true;
        run(spare);
        return;
      }
      isTrial = this.#circuit.halfOpen && this.#circuit.pendingClose;
      let bound: Pick<Ticket, 'pass' | 'fail'> | undefined;
      const counted = this.#circuit.fire({
        bind: (pass, fail) => {
          bound = { pass, fail };
        },
      });
      counted.catch(() => undefined);
      if (!bound) {
        // opossum refused the call without running it (open, or shut down).
        counted.catch((error: unknown) => {
          if (finish()) reject(this.#refusal(error));
        });
        return;
      }
      run({ ...bound, counted, bucket: this.#circuit.status.window[0] });
    });
  }

  #refusal(error: unknown): CallError {
    if (error instanceof Error && CircuitBreaker.isOurError(error)) {
      if ((error as { code?: unknown }).code === 'ESHUTDOWN') {
        return new ModelError('shutdown', 'The service is shutting down.', this.#provider);
      }
      return this.openError();
    }
    return isCallError(error) ? error : this.openError();
  }

  /** A cancelled call: opossum never hears of it; a cancelled trial waits for the next call. */
  #abandon(ticket: Ticket, isTrial: boolean): void {
    if (isTrial && this.#circuit.halfOpen && this.#spareTrial === undefined) {
      this.#spareTrial = ticket;
      return;
    }
    forgetFire(ticket);
  }

  #takeSpareTrial(): Ticket | undefined {
    const spare = this.#spareTrial;
    if (!spare || !this.#circuit.halfOpen) return undefined;
    this.#spareTrial = undefined;
    return spare;
  }

  #dropSpareTrial(): void {
    const spare = this.#spareTrial;
    this.#spareTrial = undefined;
    if (spare) forgetFire(spare);
  }
}

/** Takes a cancelled call's `fire` back out of the window, so it neither dilutes nor adds volume. */
function forgetFire(ticket: Ticket): void {
  const bucket = ticket.bucket;
  ticket.bucket = undefined;
  if (bucket && bucket.fires > 0) bucket.fires -= 1;
}
