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
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, killAllChildren, startHelper } from './lib/processes.js';
import { reportProfiles } from './lib/profile-report.js';
import { describeMachine, resultsPath, type ScenarioRecord, writeResults } from './lib/results-file.js';
import { formatTable } from './lib/results-table.js';
import { budgetOverhead } from './scenarios/budget-overhead.js';
import { capacity } from './scenarios/capacity.js';
import { chatSurface } from './scenarios/chat-surface.js';
import type { BenchContext, ScenarioResult } from './scenarios/context.js';
import { criticalPath, fanOut } from './scenarios/critical-path.js';
import { latencyUnderLoad } from './scenarios/latency-under-load.js';
import { memory } from './scenarios/memory.js';
import { overhead } from './scenarios/overhead.js';
import { stopSharedServices } from './scenarios/service.js';
import { sseFanOut } from './scenarios/sse.js';

const SCENARIOS: Record<string, (context: BenchContext) => Promise<ScenarioResult>> = {
  overhead,
  budgetOverhead,
  chatSurface,
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

const results: Record<string, ScenarioRecord> = {};
const startedAt = new Date();
const machine = describeMachine();
const tmpDir = mkdtempSync(join(os.tmpdir(), 'chorus-bench-'));
const run = { quick, store, workers, only };
const outputPath = resultsPath(join(BENCH_DIR, 'results'), run);
const saveResults = () => writeResults(outputPath, { ...run, startedAt, machine, results });

function printTable(): void {
  process.stdout.write(
    `\nChorus bench${quick ? ' (quick)' : ''}${deploymentLabel} — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.nodeVersion}\n${formatTable(results)}\n\nresults: ${outputPath}\n`,
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
      saveResults();
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
      saveResults();
    }
  } finally {
    await stopSharedServices(context);
    await upstream.stop();
  }
  saveResults();
  printTable();
  const missed = Object.values(results).some((record) => !record.met);
  return errors > 0 || (strict && missed) ? 1 : 0;
}

main().then(
  (code) => {
    finishing = true;
    if (!profile) rmSync(tmpDir, { recursive: true, force: true });
    process.exit(code);
  },
  (error: unknown) => abort(`bench failed: ${(error as Error)?.stack ?? error}`),
);
