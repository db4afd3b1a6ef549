/**
 * The results JSON: each scenario's record, the machine's description and a
 * summary of the targets met and missed, written after every scenario (so an
 * interrupted run keeps what it measured).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

/** One scenario's figures as written: its figures, targets, checks and time taken, or its error. */
export type ScenarioRecord = Record<string, unknown> & {
  met: boolean;
  seconds: number;
  targets: Record<string, string>;
  checks: Record<string, boolean>;
  error?: string;
};

export interface Machine {
  cpuModel: string;
  cores: number;
  nodeVersion: string;
  platform: string;
  totalMemoryMb: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
}

const loadAverage = () => os.loadavg().map((value) => Math.round(value * 100) / 100);

/** This machine, with its load average now (the end's is filled in when the results are written). */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    nodeVersion: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
    loadAverageAtStart: loadAverage(),
    loadAverageAtEnd: [],
  };
}

export interface RunDescription {
  quick: boolean;
  store: 'memory' | 'redis';
  workers: number;
  /** `--only`'s scenarios, when given. */
  only: string[] | undefined;
}

/**
 * Where a run's results go: a Redis run to its own file per worker count, a
 * partial or quick run to a `.tmp.json` (git ignores those), and only a full
 * run to latest.json, the run of record.
 */
export function resultsPath(resultsDir: string, run: RunDescription): string {
  const file =
    run.store === 'redis'
      ? `redis-${run.workers}workers.json`
      : run.only
        ? 'only.tmp.json'
        : run.quick
          ? 'quick.tmp.json' // a quick run never replaces the run of record
          : 'latest.json';
  return join(resultsDir, file);
}

export interface ResultsDocument extends RunDescription {
  startedAt: Date;
  machine: Machine;
  results: Record<string, ScenarioRecord>;
}

export function writeResults(path: string, document: ResultsDocument): void {
  const { quick, store, workers, startedAt, machine, results } = document;
  machine.loadAverageAtEnd = loadAverage();
  const missed = Object.entries(results).flatMap(([name, record]) =>
    Object.entries(record.checks)
      .filter(([, met]) => !met)
      .map(([check]) => `${name}.${check}`),
  );
  const written = {
    quick,
    store,
    ...(store === 'redis' ? { workers } : {}),
    timestamp: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    machine,
    ...results,
    summary: {
      scenarios: Object.keys(results).length,
      met: Object.values(results).filter((record) => record.met).length,
      missed,
      errors: Object.entries(results)
        .filter(([, record]) => record.error)
        .map(([name]) => name),
    },
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(written, null, 2)}\n`);
}
