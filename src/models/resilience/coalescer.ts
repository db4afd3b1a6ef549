/**
 * Identical calls in flight at the same time share one upstream execution.
 *
 * Every caller brings its own AbortSignal. A caller that aborts is detached
 * (its promise rejects with `cancelled`) while the shared execution goes on for
 * the others; only when the last caller has left is the execution's own signal
 * aborted. Streamed text is fanned out to every caller, and a caller that joins
 * late first receives the text produced so far as one delta. When the shared
 * execution restarts (a retry), callers hear `onRestart` and drop what they had.
 */
import { cancelledError } from '../../providers/errors.js';
import type { DeltaListener } from '../../providers/spec.js';

/** What the shared execution receives. */
export interface SharedExecutionContext {
  /** Aborted only when every caller has left. */
  signal: AbortSignal;
  /** Deliver streamed text; it reaches every attached caller. */
  onDelta: DeltaListener;
  /** Call when a retry starts over: callers drop their partial text. */
  onRestart: () => void;
}

export type SharedExecution<T> = (context: SharedExecutionContext) => Promise<T>;

/** What one caller brings. */
export interface CoalesceCallerOptions {
  signal?: AbortSignal | undefined;
  onDelta?: DeltaListener | undefined;
  /** The shared execution started over: drop the partial text received so far. */
  onRestart?: (() => void) | undefined;
}

export interface CoalescerStats {
  /** Executions started (one per distinct key in flight). */
  executions: number;
  /** Callers that joined an execution already in flight. */
  joins: number;
  /** Shared executions currently in flight. */
  inFlight: number;
}

interface Caller<T> {
  options: CoalesceCallerOptions;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

interface Entry<T> {
  controller: AbortController;
  callers: Set<Caller<T>>;
  /** Text produced since the execution (re)started, replayed to late joiners. */
  text: string;
}

export class Coalescer<T> {
  readonly #entries = new Map<string, Entry<T>>();
  #executions = 0;
  #joins = 0;

  /**
   * Runs `execute` for `key`, or joins the execution already in flight for it.
   * `execute` is ignored when the caller joins.
   */
  run(key: string, execute: SharedExecution<T>, options: CoalesceCallerOptions = {}): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(cancelledError());
    const existing = this.#entries.get(key);
    if (existing) {
      this.#joins += 1;
      return this.#attach(key, existing, options, true);
    }
    const entry: Entry<T> = { controller: new AbortController(), callers: new Set(), text: '' };
    this.#entries.set(key, entry);
    this.#executions += 1;
    const promise = this.#attach(key, entry, options, false);
    this.#start(key, entry, execute);
    return promise;
  }

  /** True when an execution for `key` is in flight (a call now would join it). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** How many callers are attached to the execution for `key`. */
  callers(key: string): number {
    return this.#entries.get(key)?.callers.size ?? 0;
  }

  stats(): CoalescerStats {
    return { executions: this.#executions, joins: this.#joins, inFlight: this.#entries.size };
  }

  #attach(key: string, entry: Entry<T>, options: CoalesceCallerOptions, late: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        this.#leave(key, entry, caller);
        reject(cancelledError());
      };
      const caller: Caller<T> = {
        options,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      entry.callers.add(caller);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (late && entry.text.length > 0) this.#deliver(key, entry, caller, entry.text);
    });
  }

  #start(key: string, entry: Entry<T>, execute: SharedExecution<T>): void {
    const context: SharedExecutionContext = {
      signal: entry.controller.signal,
      onDelta: (text) => {
        if (entry.controller.signal.aborted || text.length === 0) return;
        entry.text += text;
        // A lone caller (the usual case) needs no snapshot of the set.
        const callers = entry.callers.size === 1 ? entry.callers : [...entry.callers];
        for (const caller of callers) this.#deliver(key, entry, caller, text);
      },
      onRestart: () => {
        if (entry.controller.signal.aborted) return;
        entry.text = '';
        for (const caller of [...entry.callers]) {
          try {
            caller.options.onRestart?.();
          } catch (error) {
            this.#fail(key, entry, caller, error);
          }
        }
      },
    };
    let promise: Promise<T>;
    try {
      promise = execute(context);
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => this.#settle(key, entry, (caller) => caller.resolve(value)),
      (error: unknown) => this.#settle(key, entry, (caller) => caller.reject(error)),
    );
  }

  /** A listener that throws detaches only its own caller, with its own error. */
  #deliver(key: string, entry: Entry<T>, caller: Caller<T>, text: string): void {
    try {
      caller.options.onDelta?.(text);
    } catch (error) {
      this.#fail(key, entry, caller, error);
    }
  }

  #fail(key: string, entry: Entry<T>, caller: Caller<T>, error: unknown): void {
    if (!entry.callers.has(caller)) return;
    this.#leave(key, entry, caller);
    caller.reject(error);
  }

  #leave(key: string, entry: Entry<T>, caller: Caller<T>): void {
    caller.detach();
    entry.callers.delete(caller);
    if (entry.callers.size > 0) return;
    // The last caller left: forget the entry first, so a new identical call starts afresh.
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    entry.controller.abort(cancelledError('Every caller of the shared call has left.'));
  }

  #settle(key: string, entry: Entry<T>, finish: (caller: Caller<T>) => void): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    const callers = [...entry.callers];
    entry.callers.clear();
    for (const caller of callers) {
      caller.detach();
      finish(caller);
    }
  }
}
