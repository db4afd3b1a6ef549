/** What the driver gives every scenario, and what each gives back. */
import type { Child, Service } from '../lib/processes.js';

export interface BenchContext {
  quick: boolean;
  /** A fresh temporary directory for this run (models files, profiles). */
  tmpDir: string;
  /** Where to write CPU profiles of the service (`--profile`), else undefined. */
  profileDir: string | undefined;
  /** The fake upstream, shared by every scenario (reconfigured by each). */
  upstream: Child;
  upstreamUrl: string;
  /** A unique word per run, so tags never collide across services. */
  runId: string;
  /** `--memory-upstream`: the memory scenario calls the fake upstream over HTTP (slow) instead of an in-process model. */
  memoryViaUpstream: boolean;
  /**
   * Per scenario (or `<scenario>/<process>` for a deployment of several), how
   * far into the service's life its measurement began (profiles leave out
   * what came before).
   */
  profileSkipMs: Record<string, number>;
  /** Quick runs share one service between scenarios that configure it alike (start-up is most of their time). */
  sharedServices: Map<string, Promise<Service>>;
  /** `--store`: the load scenarios' deployment (memory: one process; redis: an API process and workers). */
  store: 'memory' | 'redis';
  /** `--workers`: worker processes with `--store=redis`. */
  workers: number;
  redisUrl: string;
  log(message: string): void;
}

export interface ScenarioResult {
  /** The figures (the keys the issue names, plus context). */
  figures: Record<string, unknown>;
  /** Target name → [met, human-readable target]. */
  checks: Record<string, { met: boolean; target: string }>;
}
