/**
 * The `chorus` command as a user runs it: `node bin/chorus.js …` in its own
 * process, with only the given environment (plus PATH/HOME), piped or on a
 * pseudo-terminal (`script`), so what is tested is what a terminal shows.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/chorus.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(command: string, args: string[], env: Record<string, string>, ms: number): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chorus ${args.join(' ')} did not end within ${ms} ms\n${stdout}\n${stderr}`));
    }, ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `chorus <args>` with stdout and stderr piped. */
export function runCli(args: string[], env: Record<string, string>, ms = 30_000): Promise<CliRun> {
  return collect(process.execPath, [BIN, ...args], env, ms);
}

const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/** `chorus <args>` on a pseudo-terminal: stdout and stderr are one TTY, read as `stdout`. */
export function runCliOnTty(args: string[], env: Record<string, string>, ms = 30_000): Promise<CliRun> {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return collect('script', ['-q', '-e', '-c', `stty cols 100 2>/dev/null; ${command}`, '/dev/null'], env, ms);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is looked for
export const ANSI = /\u001b\[/;
