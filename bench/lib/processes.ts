/**
 * Child processes of the bench: spawning (TypeScript helpers through tsx, the
 * built service as `node dist/server.js`), readiness, CPU time from /proc,
 * and cleanup — every child is killed when the driver exits, fails or is
 * interrupted.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rpc } from './ipc.js';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT_DIR = join(BENCH_DIR, '..');

const children = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL: the bench is ending). */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

process.on('exit', killAllChildren);

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The last lines a child wrote, shown when it fails. */
class Tail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-8000);
  }
  toString(): string {
    return this.text;
  }
}

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  rpc: Rpc;
  info: Record<string, unknown>;
  output: Tail;
  /** Stops the child: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

function track(
  child: ChildProcess,
  name: string,
): { output: Tail; stop: (graceMs?: number) => Promise<void> } {
  children.add(child);
  const output = new Tail();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child));
  const stop = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  void name;
  return { output, stop };
}

/** The environment a child gets: no provider keys or other surprises from the caller's shell. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    ...extra,
  };
}

/**
 * Starts a TypeScript helper under bench/procs through tsx, with an IPC
 * channel; resolves once it has called `ready()`.
 */
export async function startHelper(
  script: string,
  options: { env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<Child> {
  const path = join(BENCH_DIR, 'procs', script);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path], {
    cwd: ROOT_DIR,
    env: baseEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const { output, stop } = track(child, script);
  const rpc = new Rpc(child, script);
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${script} was not ready within ${options.timeoutMs ?? 20_000} ms:\n${output}`));
    }, options.timeoutMs ?? 20_000);
    const onMessage = (message: { ready?: boolean }) => {
      if (typeof message === 'object' && message?.ready) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message as Record<string, unknown>);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
  return { name: script, process: child, pid: child.pid!, rpc, info, output, stop };
}

export interface Service {
  url: string;
  /** When the driver spawned it (`performance.now()`), to line up its CPU profile. */
  spawnedAt: number;
  pid: number;
  process: ChildProcess;
  output: Tail;
  stop(): Promise<void>;
}

/** The driver's OTEL_* variables: the service runs traced when the bench is started with an endpoint. */
function tracingEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith('OTEL_') && entry[1] !== undefined,
    ),
  );
}

/**
 * Starts the built service as in production: `node dist/server.js`,
 * configured by environment variables only. With `cpuProfileDir`, under
 * `--cpu-prof` (the profile is written when it exits on SIGTERM).
 */
export async function startService(
  env: Record<string, string>,
  options: { cpuProfileDir?: string | undefined; nodeArgs?: string[] } = {},
): Promise<Service> {
  const port = await freePort();
  const nodeArgs = [...(options.nodeArgs ?? [])];
  if (options.cpuProfileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT_DIR, 'dist', 'server.js')], {
    cwd: ROOT_DIR,
    env: baseEnv({
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '1000',
      ...tracingEnv(),
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, stop } = track(child, 'service');
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`the service exited during start-up:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the service did not answer /healthz within 20 s:\n${output}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, spawnedAt, pid: child.pid!, process: child, output, stop: () => stop(10_000) };
}

let clockTicks: number | undefined;

/** CPU time (user + system, all threads) a process has used so far, in milliseconds, from /proc. */
export function processCpuMs(pid: number): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) (utime, stime): indexes 11 and 12 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}
