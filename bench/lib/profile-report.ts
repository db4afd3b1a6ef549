/**
 * After a scenario run with `--profile`: prints the top self-time functions
 * of every CPU profile its processes wrote, and lists the profiles' paths in
 * the scenario's record.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatProfile, summarizeProfile } from './cpuprofile.js';
import type { ScenarioRecord } from './results-file.js';

/**
 * `skipMs` is how far into each process's life the scenario's measurement
 * began, by scenario (`name`) or by deployment process (`name/process`).
 */
export function reportProfiles(
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
