/**
 * Identical calls in flight at the same time share one execution: the one
 * fan-out of the call chain.
 *
 * Each caller brings its listener and its own AbortSignal. The execution tells
 * the shared call when an attempt starts, each piece of text, and each retry;
 * every caller hears it with the attempt it belongs to. A caller that joins
 * late first hears the attempt under way and the text produced so far (as one
 * delta). A retry drops the text so far (callers drop theirs too). A caller
 * that aborts is detached (its promise rejects with `cancelled`) while the
 * execution goes on for the others; when the last caller has left, the
 * execution's own signal is aborted and the key is free for a fresh call.
 * A listener that throws detaches only its own caller, with that error.
 */
import { cancelledError } from '../providers/errors.js';
import type { CallError } from './errors.js';

/** What one caller hears of the shared call. */
export interface SharedCallListener {
  /** An attempt starts (1, 2, …); a late joiner hears the one under way. */
  onAttempt?(attempt: number): void;
  onDelta?(text: string, attempt: number): void;
  /** An attempt failed and another follows after `delayMs`: drop the text received so far. */
  onRetry?(error: CallError, attempt: number, delayMs: number): void;
}

/** What the shared execution reports through, and the signal it runs under. */
export interface SharedExecution {
  /** Aborted only when every caller has left. */
  readonly signal: AbortSignal;
  attemptStarted(attempt: number): void;
  delta(text: string): void;
  retrying(error: CallError, attempt: number, delayMs: number): void;
}

export interface SharedCallsStats {
  /** Executions started (one per distinct key in flight). */
  executions: number;
  /** Callers that joined an execution already in flight. */
  joins: number;
  /** Shared executions in flight now. */
  inFlight: number;
}

interface Caller<T> {
  listener: SharedCallListener;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

class SharedCall<T> implements SharedExecution {
  readonly callers = new Set<Caller<T>>();
  readonly #controller = new AbortController();
  /** The attempt under way (0 before the first starts). */
  attempt = 0;
  /** Text of the attempt under way, replayed to late joiners. */
  text = '';

  constructor(
    private readonly key: string,
    private readonly calls: Map<string, SharedCall<T>>,
  ) {}

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  attemptStarted(attempt: number): void {
    if (this.signal.aborted) return;
    this.attempt = attempt;
    this.#tell((listener) => listener.onAttempt?.(attempt));
  }

  delta(text: string): void {
    if (this.signal.aborted || text.length === 0) return;
    this.text += text;
    const attempt = this.attempt;
    this.#tell((listener) => listener.onDelta?.(text, attempt));
  }

  retrying(error: CallError, attempt: number, delayMs: number): void {
    if (this.signal.aborted) return;
    this.text = '';
    this.#tell((listener) => listener.onRetry?.(error, attempt, delayMs));
  }

  /** Attaches a caller; a late one first hears the attempt under way and the text so far. */
  attach(caller: Caller<T>, late: boolean): void {
    this.callers.add(caller);
    if (!late) return;
    if (this.attempt >= 1) this.#tellOne(caller, (listener) => listener.onAttempt?.(this.attempt));
    if (this.text.length > 0)
      this.#tellOne(caller, (listener) => listener.onDelta?.(this.text, this.attempt));
  }

  /** A caller leaves (aborted, or its listener threw); the last one out aborts the execution. */
  leave(caller: Caller<T>): void {
    caller.detach();
    this.callers.delete(caller);
    if (this.callers.size > 0) return;
    // Forget the call first, so a new identical call starts afresh.
    if (this.calls.get(this.key) === this) this.calls.delete(this.key);
    this.#controller.abort(cancelledError('Every caller of the shared call has left.'));
  }

  settle(finish: (caller: Caller<T>) => void): void {
    if (this.calls.get(this.key) === this) this.calls.delete(this.key);
    const callers = [...this.callers];
    this.callers.clear();
    for (const caller of callers) {
      caller.detach();
      finish(caller);
    }
  }

  #tell(say: (listener: SharedCallListener) => void): void {
    // A lone caller (the usual case) needs no snapshot of the set.
    const callers = this.callers.size === 1 ? this.callers : [...this.callers];
    for (const caller of callers) this.#tellOne(caller, say);
  }

  #tellOne(caller: Caller<T>, say: (listener: SharedCallListener) => void): void {
    try {
      say(caller.listener);
    } catch (error) {
      if (!this.callers.has(caller)) return;
      this.leave(caller);
      caller.reject(error);
    }
  }
}

export class SharedCalls<T> {
  readonly #calls = new Map<string, SharedCall<T>>();
  #executions = 0;
  #joins = 0;

  /**
   * Runs `execute` for `key`, or joins the execution already in flight for
   * it (`execute` is then not called).
   */
  run(
    key: string,
    execute: (execution: SharedExecution) => Promise<T>,
    listener: SharedCallListener = {},
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    const existing = this.#calls.get(key);
    if (existing) {
      this.#joins += 1;
      return this.#join(existing, listener, signal, true);
    }
    const call = new SharedCall<T>(key, this.#calls);
    this.#calls.set(key, call);
    this.#executions += 1;
    const joined = this.#join(call, listener, signal, false);
    let promise: Promise<T>;
    try {
      promise = execute(call);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => call.settle((caller) => caller.resolve(value)),
      (error: unknown) => call.settle((caller) => caller.reject(error)),
    );
    return joined;
  }

  /** True when an execution for `key` is in flight (a call now would join it). */
  has(key: string): boolean {
    return this.#calls.has(key);
  }

  /** How many callers are attached to the execution for `key`. */
  callers(key: string): number {
    return this.#calls.get(key)?.callers.size ?? 0;
  }

  stats(): SharedCallsStats {
    return { executions: this.#executions, joins: this.#joins, inFlight: this.#calls.size };
  }

  #join(
    call: SharedCall<T>,
    listener: SharedCallListener,
    signal: AbortSignal | undefined,
    late: boolean,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (!call.callers.has(caller)) return;
        call.leave(caller);
        reject(cancelledError());
      };
      const caller: Caller<T> = {
        listener,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      call.attach(caller, late);
    });
  }
}
