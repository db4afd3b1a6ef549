/**
 * Per-model call statistics for `GET /v1/models`: `{ requests, failures, p50LatencyMs }`.
 *
 * Counts run since the process started; the median latency is taken over the
 * most recent successful calls (a small bounded ring buffer). A cancelled call
 * counts as a request but neither as a failure nor as a latency sample.
 */

export type CallOutcome = 'success' | 'failure' | 'cancelled';

export interface ModelStatsSnapshot {
  requests: number;
  failures: number;
  /** Median latency of recent successful calls; null before the first one. */
  p50LatencyMs: number | null;
}

export const DEFAULT_LATENCY_SAMPLES = 128;

/** A fixed-size ring of the latest samples. */
export class LatencyRing {
  readonly #samples: Float64Array;
  #next = 0;
  #size = 0;

  constructor(capacity = DEFAULT_LATENCY_SAMPLES) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError('LatencyRing: capacity must be a positive integer.');
    }
    this.#samples = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    this.#samples[this.#next] = value;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#size < this.#samples.length) this.#size += 1;
  }

  /** The q-quantile (0..1) by nearest rank; null when empty. */
  quantile(q: number): number | null {
    if (this.#size === 0) return null;
    const sorted = this.#samples.slice(0, this.#size).sort();
    const rank = Math.min(this.#size, Math.max(1, Math.ceil(Math.min(Math.max(q, 0), 1) * this.#size)));
    return sorted[rank - 1] ?? null;
  }
}

export class ModelStats {
  #requests = 0;
  #failures = 0;
  readonly #latencies: LatencyRing;

  constructor(latencySamples = DEFAULT_LATENCY_SAMPLES) {
    this.#latencies = new LatencyRing(latencySamples);
  }

  record(outcome: CallOutcome, latencyMs?: number): void {
    this.#requests += 1;
    if (outcome === 'failure') this.#failures += 1;
    else if (outcome === 'success' && latencyMs !== undefined) this.#latencies.push(latencyMs);
  }

  snapshot(): ModelStatsSnapshot {
    const p50 = this.#latencies.quantile(0.5);
    return {
      requests: this.#requests,
      failures: this.#failures,
      p50LatencyMs: p50 === null ? null : Math.round(p50),
    };
  }
}

/** One ModelStats per model id, made on first use. */
export class ModelStatsRegistry {
  readonly #byModel = new Map<string, ModelStats>();

  constructor(private readonly latencySamples = DEFAULT_LATENCY_SAMPLES) {}

  for(modelId: string): ModelStats {
    let stats = this.#byModel.get(modelId);
    if (!stats) {
      stats = new ModelStats(this.latencySamples);
      this.#byModel.set(modelId, stats);
    }
    return stats;
  }

  record(modelId: string, outcome: CallOutcome, latencyMs?: number): void {
    this.for(modelId).record(outcome, latencyMs);
  }

  /** The snapshot for a model; zeros for a model never called. */
  snapshot(modelId: string): ModelStatsSnapshot {
    return this.#byModel.get(modelId)?.snapshot() ?? { requests: 0, failures: 0, p50LatencyMs: null };
  }
}
