import { DEFAULT_MAX_EVENT_BYTES, deltasLeftOutWarning, eventBudget } from './event-budget.js';
import type { AnalysisEventPayload } from './events.js';
import type { AnalysisRecord } from './record.js';
import { DELTAS_LEFT_OUT, type ReduceContext, reduce } from './reduce.js';
import type { AnalysisStore, WriteOptions } from './store/store.js';

/** Thrown when the store refuses a write: another worker holds the analysis now. */
export class LostOwnership extends Error {
  override readonly name = 'LostOwnership';
}

/** Events after which a store kept apart from the process is sent the record. */
const CHECKPOINTS = new Set<AnalysisEventPayload['type']>([
  'analysis.started',
  'analysis.resumed',
  'stage.started',
  'stage.completed',
  'model.completed',
]);

/**
 * The one writer of an analysis's events while it runs. Each event is stamped,
 * reduced into the record at once (so the run reads the state its own events
 * made), and appended to the store in order. A store that needs no round trip
 * (memory) takes the event and the record together; one that does (Redis)
 * gets a chain of writes, with the record at checkpoints. A refused write
 * means the analysis is no longer ours: it ended, or another worker took it.
 */
export class JobLog {
  #record: AnalysisRecord;
  #chain: Promise<unknown> = Promise.resolve();
  #failure: unknown;
  readonly #budget: ReturnType<typeof eventBudget>;

  constructor(
    private readonly store: AnalysisStore,
    record: AnalysisRecord,
    private readonly context: ReduceContext & {
      now: () => number;
      maxEventBytes?: number | undefined;
      /** An in-process reader told every kept event (the run's spans). */
      /** In-process readers of every event the log keeps, told once it is reduced (spans, spend, lengths). */
      readers?: ReadonlyArray<(event: AnalysisEventPayload) => void> | undefined;
    },
    private readonly write: WriteOptions = {},
  ) {
    this.#record = record;
    this.#budget = eventBudget(context.maxEventBytes);
  }

  /** The record as every event so far reduces it. */
  get record(): AnalysisRecord {
    return this.#record;
  }

  readonly emit = (event: AnalysisEventPayload): void => {
    const verdict = this.#budget.admits(event);
    if (verdict === 'first-left-out') {
      // Live readers learn why the text stops; the record keeps it as a warning.
      const { stage, progress } = this.#record.progress;
      const message = deltasLeftOutWarning(this.context.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
      this.emit({
        type: 'progress',
        data: { stage, progress, message, details: { [DELTAS_LEFT_OUT]: true } },
      });
    }
    if (verdict !== 'kept') return;
    const at = this.context.now();
    const before = this.#record;
    const record = reduce(before, event, at, this.context);
    this.#record = record;
    if (this.context.readers) for (const read of this.context.readers) read(event);
    const store = this.store;
    const id = record.id;
    if (store.appendNow) {
      store.appendNow(id, event, { at, record: record === before ? undefined : record });
      return;
    }
    const checkpoint = CHECKPOINTS.has(event.type);
    this.#chain = this.#chain.then(async () => {
      if (this.#failure) return;
      const stored = await store.append(id, event, { ...this.write, at });
      if (!stored) {
        this.#failure = new LostOwnership(`Analysis ${id}: the event log refused a write.`);
        return;
      }
      if (checkpoint) await store.save(record, this.write);
    });
    this.#chain.catch((error: unknown) => {
      this.#failure ??= error;
    });
  };

  /** Waits for every write so far; throws what a write met (a lost ownership, a store error). */
  async flush(): Promise<void> {
    await this.#chain.catch(() => {});
    if (this.#failure) throw this.#failure;
  }
}
