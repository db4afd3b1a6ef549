/**
 * Chorus benchmarks: `npm run bench` (full, about 3 minutes on 2 cores) or
 * `npm run bench -- --quick` (every scenario at small sizes, under 30 s; CI).
 *
 * Starts a fake OpenAI upstream (its own process), the built service as in
 * production (`node dist/server.js`, its own process, configured by
 * environment variables and a MODELS_FILE) and load clients; prints a table
 * and writes every figure, with the machine's description, to
 * bench/results/latest.json. See bench/README.md for the methods.
 *
 * Options:
 *   --quick           small sizes; results go to bench/results/quick.tmp.json
 *   --only=a,b        run some scenarios (overhead, criticalPath, fanOut,
 *                     latencyUnderLoad, capacity, sse, memory); results go to
 *                     bench/results/only.tmp.json instead of latest.json
 *   --profile         run each service under `node --cpu-prof` and print its
 *                     top self-time functions after each scenario
 *   --memory-upstream the memory scenario's models call the fake upstream over
 *                     HTTP (minutes at 10,000 analyses) instead of an
 *                     in-process model that streams the same answers
 *   --strict          exit 1 when a target is missed (by default only a
 *                     scenario that fails to run makes the exit code non-zero)
 *   --store=redis     the load scenarios (the only ones run then, unless
 *                     --only says otherwise) on Redis: one API process and
 *                     --workers=N worker processes (default 1); results go to
 *                     bench/results/redis-<N>workers.json
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { formatProfile, summarizeProfile } from './lib/cpuprofile.js';
import { BENCH_DIR, killAllChildren, startHelper } from './lib/processes.js';
import { type BenchContext, type ScenarioResult, stopSharedServices } from './scenarios/common.js';
import { criticalPath, fanOut } from './scenarios/critical-path.js';
import { capacity, latencyUnderLoad } from './scenarios/load.js';
import { memory } from './scenarios/memory.js';
import { overhead } from './scenarios/overhead.js';
import { sseFanOut } from './scenarios/sse.js';

const SCENARIOS: Record<string, (context: BenchContext) => Promise<ScenarioResult>> = {
  overhead,
  criticalPath,
  fanOut,
  latencyUnderLoad,
  capacity,
  sse: sseFanOut,
  memory,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const strict = args.includes('--strict');
const profile = args.includes('--profile');
const optionValue = (name: string) =>
  args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const store = (optionValue('store') ?? 'memory') as 'memory' | 'redis';
const workers = Number(optionValue('workers') ?? 1);
if ((store !== 'memory' && store !== 'redis') || !Number.isInteger(workers) || workers < 1) {
  process.stderr.write('--store is memory or redis; --workers is a positive integer\n');
  process.exit(2);
}
const LOAD_SCENARIOS = 'latencyUnderLoad,capacity';
/**
 * The local Redis, always: not the caller's REDIS_URL (children get no
 * surprises from the shell), and Redis's CPU is read from the local
 * redis-server's /proc entry.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const deploymentLabel = store === 'redis' ? ` on Redis, ${workers} worker${workers === 1 ? '' : 's'}` : '';
const onlyArg = optionValue('only') ?? (store === 'redis' ? LOAD_SCENARIOS : undefined);
const only = onlyArg ? onlyArg.split(',').map((name) => name.trim()) : undefined;
const unknown = only?.filter((name) => !(name in SCENARIOS)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}\n`,
  );
  process.exit(2);
}
const selected = Object.keys(SCENARIOS).filter((name) => !only || only.includes(name));

const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

type ScenarioRecord = Record<string, unknown> & {
  met: boolean;
  seconds: number;
  targets: Record<string, string>;
  checks: Record<string, boolean>;
  error?: string;
};

const results: Record<string, ScenarioRecord> = {};
const startedAt = new Date();
const cpus = os.cpus();
const machine = {
  cpuModel: cpus[0]?.model ?? 'unknown',
  cores: os.availableParallelism?.() ?? cpus.length,
  nodeVersion: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
  loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
  loadAverageAtEnd: [] as number[],
};

const tmpDir = mkdtempSync(join(os.tmpdir(), 'chorus-bench-'));
const resultsDir = join(BENCH_DIR, 'results');
const outputPath = join(
  resultsDir,
  store === 'redis'
    ? `redis-${workers}workers.json`
    : only
      ? 'only.tmp.json'
      : quick
        ? 'quick.tmp.json' // a quick run never replaces the run of record
        : 'latest.json',
);

function writeResults(): void {
  machine.loadAverageAtEnd = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const missed = Object.entries(results).flatMap(([name, record]) =>
    Object.entries(record.checks)
      .filter(([, met]) => !met)
      .map(([check]) => `${name}.${check}`),
  );
  const document = {
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
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(outputPath, `${JSON.stringify(document, null, 2)}\n`);
}

// ---- the table ------------------------------------------------------------

interface Row {
  scenario: string;
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const fmt = (value: unknown, digits = 2): string =>
  typeof value === 'number'
    ? Number.isFinite(value)
      ? value.toFixed(digits)
      : String(value)
    : String(value ?? '—');
const ratioOf = (a: unknown, b: unknown): string =>
  typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';
const mark = (met: boolean | undefined): string => (met === undefined ? '—' : met ? 'pass' : 'FAIL');

function rowsFor(name: string, record: ScenarioRecord): Row[] {
  const f = record as Record<string, unknown>;
  const c = record.checks;
  const row = (
    figure: string,
    value: string,
    baseline: string,
    ratio: string,
    target: string,
    met: string,
  ) => ({
    scenario: name,
    figure,
    value,
    baseline,
    ratio,
    target,
    met,
  });
  if (record.error) return [row('error', record.error.split('\n')[0]!.slice(0, 60), '', '', '', 'ERROR')];
  switch (name) {
    case 'overhead': {
      const extra = `+${fmt((f.medianMs as number) - (f.floorMedianMs as number))} ms`;
      return [
        row(
          'added median ms',
          fmt(f.medianMs),
          fmt(f.floorMedianMs),
          extra,
          '≤ floor + 0.5 ms',
          mark(c.median),
        ),
        row(
          'added p99 ms',
          fmt(f.p99Ms),
          fmt(f.floorP99Ms),
          ratioOf(f.p99Ms, f.floorP99Ms),
          '≤ 1.5× floor',
          mark(c.p99),
        ),
      ];
    }
    case 'criticalPath': {
      const added = f.addedMs as { p50: number } | undefined;
      const floor = f.floor as
        | { addedMs?: { p50: number }; addedBreakdownMs?: Record<string, number> }
        | undefined;
      const breakdown = (parts: Record<string, number> | undefined) =>
        parts
          ? [parts.leadInMs, parts.stageSkewMs, parts.stageGapsMs, parts.tailMs]
              .map((v) => fmt(v, 1))
              .join('/')
          : '—';
      return [
        row(
          'e2e / critical path (floor: bare)',
          fmt(f.ratio, 3),
          fmt(f.floorRatio, 3),
          `${fmt(f.ratio, 3)}×`,
          '≤ 1.05',
          mark(c.ratio),
        ),
        ...(added
          ? [
              row(
                'added ms: in/skew/gaps/tail',
                fmt(added.p50, 1),
                fmt(floor?.addedMs?.p50, 1),
                breakdown(f.addedBreakdownMs as Record<string, number> | undefined),
                '—',
                '',
              ),
              row('floor added ms: in/skew/gaps/tail', '', '', breakdown(floor?.addedBreakdownMs), '—', ''),
            ]
          : []),
      ];
    }
    case 'fanOut': {
      const byModels = f.medianMsByModels as Record<string, number>;
      const [twelve, one] = [fmt(byModels['12'], 1), fmt(byModels['1'], 1)];
      return [
        row(
          'median ms, 12 vs 1 model',
          twelve,
          one,
          `${fmt(f.ratio12to1, 3)}×`,
          '≤ 1.10×',
          mark(c.ratio12to1),
        ),
      ];
    }
    case 'latencyUnderLoad':
      return [
        row(
          `p99 added ms (${f.inFlight} in flight)`,
          fmt(f.p99AddedMs, 1),
          '—',
          '—',
          '≤ 100 ms',
          mark(c.p99AddedMs),
        ),
      ];
    case 'capacity':
      return [
        row(
          `succeeded / total (${f.inFlight} in flight)`,
          `${f.succeeded}/${f.total}`,
          '—',
          '—',
          'all',
          mark(c.allSucceeded),
        ),
        row(
          'CPU ms per model call',
          fmt(f.cpuMsPerModelCall, 3),
          fmt(f.baselineCpuMsPerCall, 3),
          ratioOf(f.cpuMsPerModelCall, f.baselineCpuMsPerCall),
          '≤ 1.5×',
          mark(c.cpu),
        ),
        row(
          'model calls per second',
          fmt(f.modelCallsPerSecond, 0),
          fmt(f.baselineCallsPerSecond, 0),
          ratioOf(f.modelCallsPerSecond, f.baselineCallsPerSecond),
          '≥ 0.6×',
          mark(c.throughput),
        ),
      ];
    case 'sse':
      return [
        row(
          `all ${f.subscribers} got all ${f.events} events`,
          String(f.allReceivedAll),
          '—',
          '—',
          'true',
          mark(c.allReceivedAll),
        ),
        row(
          'p99 delivery lag ms',
          fmt(f.p99LagMs, 1),
          fmt(f.baselineP99LagMs, 1),
          ratioOf(f.p99LagMs, f.baselineP99LagMs),
          '≤ 1.5×',
          mark(c.p99Lag),
        ),
      ];
    case 'memory': {
      const large = f.largeMetadata as
        | {
            analyses: number;
            metadataBytes: number;
            perAnalysisKb: number;
            storeBytesPerAnalysisKb: number | null;
          }
        | undefined;
      const oversized = f.oversizedMetadata as
        | { analyses: number; statuses: Record<string, number>; heapHeldMb: number }
        | undefined;
      return [
        row(
          `KB per retained analysis (${f.analyses})`,
          fmt(f.perAnalysisKb, 1),
          '—',
          '—',
          '≤ 30 KB',
          mark(c.perAnalysis),
        ),
        row(
          'heap after expiry / baseline',
          `${fmt(f.afterExpiryHeapMb, 1)} MB`,
          `${fmt(f.baselineHeapMb, 1)} MB`,
          `${fmt(f.afterExpiryRatio, 3)}×`,
          '≤ 1.10×',
          mark(c.afterExpiry),
        ),
        row(
          `KB per analysis, ${fmt((large?.metadataBytes ?? 0) / 1024, 0)} KB metadata (${large?.analyses})`,
          fmt(large?.perAnalysisKb, 1),
          '—',
          '—',
          '—',
          '—',
        ),
        row(
          'store bytes per analysis, same (KB)',
          fmt(large?.storeBytesPerAnalysisKb, 1),
          '—',
          '—',
          '—',
          '—',
        ),
        row(
          `1.8 MB metadata: accepted of ${oversized?.analyses}`,
          String(oversized?.statuses?.['200'] ?? 0),
          '—',
          '—',
          '—',
          '—',
        ),
        row('1.8 MB metadata: heap held (MB)', fmt(oversized?.heapHeldMb, 1), '—', '—', '—', '—'),
      ];
    }
    default:
      return [];
  }
}

function printTable(): void {
  const rows = Object.entries(results).flatMap(([name, record]) => rowsFor(name, record));
  const header: Row = {
    scenario: 'scenario',
    figure: 'figure',
    value: 'value',
    baseline: 'baseline',
    ratio: 'ratio',
    target: 'target',
    met: 'met',
  };
  const keys = Object.keys(header) as (keyof Row)[];
  const widths = keys.map((key) => Math.max(...[header, ...rows].map((row) => row[key].length)));
  const line = (row: Row) => keys.map((key, index) => row[key].padEnd(widths[index]!)).join(' | ');
  const lines = [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)];
  process.stdout.write(
    `\nChorus bench${quick ? ' (quick)' : ''}${deploymentLabel} — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.nodeVersion}\n${lines.join('\n')}\n\nresults: ${outputPath}\n`,
  );
}

// ---- the run ----------------------------------------------------------------

let finishing = false;
function abort(reason: string): never {
  if (!finishing) {
    finishing = true;
    log(reason);
    killAllChildren();
    try {
      writeResults();
      printTable();
    } catch {
      // best effort
    }
  }
  process.exit(1);
}

process.on('SIGINT', () => abort('interrupted'));
process.on('SIGTERM', () => abort('terminated'));
process.on('uncaughtException', (error) => abort(`uncaught: ${error.stack ?? error}`));
process.on('unhandledRejection', (error) =>
  abort(`unhandled rejection: ${(error as Error)?.stack ?? error}`),
);
const watchdog = setTimeout(() => abort('the bench ran past its time limit'), quick ? 120_000 : 600_000);
watchdog.unref();

async function main(): Promise<number> {
  log(`${quick ? 'quick' : 'full'} run: ${selected.join(', ')}`);
  if (store === 'redis') {
    log(`load scenarios${deploymentLabel}: one API process (ROLE=api) and the workers (ROLE=worker)`);
    const others = selected.filter((name) => !LOAD_SCENARIOS.split(',').includes(name));
    if (others.length > 0)
      log(`--store applies to the load scenarios only; ${others.join(', ')} run as usual`);
  } else if (optionValue('workers') !== undefined) {
    log('--workers applies with --store=redis only: ignored');
  }
  const upstream = await startHelper('fake-upstream.ts');
  const profileDir = profile ? join(tmpDir, 'profiles') : undefined;
  const context: BenchContext = {
    quick,
    tmpDir,
    profileDir,
    upstream,
    upstreamUrl: String(upstream.info.url),
    runId: Date.now().toString(36),
    memoryViaUpstream: args.includes('--memory-upstream'),
    store,
    workers,
    redisUrl: REDIS_URL,
    profileSkipMs: {},
    sharedServices: new Map(),
    log,
  };
  let errors = 0;
  try {
    for (const name of selected) {
      log(`${name}…`);
      const began = performance.now();
      let record: ScenarioRecord;
      try {
        const result = await SCENARIOS[name]!(context);
        const checks = Object.fromEntries(
          Object.entries(result.checks).map(([key, check]) => [key, check.met]),
        );
        record = {
          ...result.figures,
          targets: Object.fromEntries(
            Object.entries(result.checks).map(([key, check]) => [key, check.target]),
          ),
          checks,
          met: Object.values(checks).every(Boolean),
          seconds: 0,
        };
      } catch (error) {
        errors++;
        record = {
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          targets: {},
          checks: {},
          met: false,
          seconds: 0,
        };
        log(`${name} failed: ${record.error}`);
      }
      record.seconds = Math.round((performance.now() - began) / 100) / 10;
      results[name] = record;
      log(`${name}: ${record.met ? 'met' : record.error ? 'error' : 'missed'} (${record.seconds} s)`);
      if (profileDir) reportProfiles(join(profileDir, name), name, record, context.profileSkipMs);
      writeResults();
    }
  } finally {
    await stopSharedServices(context);
    await upstream.stop();
  }
  writeResults();
  printTable();
  const missed = Object.values(results).some((record) => !record.met);
  return errors > 0 || (strict && missed) ? 1 : 0;
}

function reportProfiles(
  dir: string,
  name: string,
  record: ScenarioRecord,
  skipMs: Record<string, number>,
): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.cpuprofile'),
    );
  } catch {
    return;
  }
  for (const file of files) {
    const path = join(dir, file);
    // The service's profile skips start-up and warm-up, and so do those of a
    // deployment's processes (in sub-folders named after them, with skips of
    // their own); helpers' profiles (other sub-folders) cover their whole, short life.
    const folder = file.includes('/') ? dirname(file) : undefined;
    const skip = folder === undefined ? (skipMs[name] ?? 0) : (skipMs[`${name}/${folder}`] ?? 0);
    const summary = summarizeProfile(path, 20, skip);
    if (summary.busyMs === 0) continue;
    const title = `${name} profile ${path} (from ${Math.round(skip)} ms on)`;
    process.stderr.write(`${formatProfile(summary, title)}\n`);
    record.profiles = [...((record.profiles as string[] | undefined) ?? []), path];
  }
}

main().then(
  (code) => {
    finishing = true;
    if (!profile) rmSync(tmpDir, { recursive: true, force: true });
    process.exit(code);
  },
  (error: unknown) => abort(`bench failed: ${(error as Error)?.stack ?? error}`),
);
