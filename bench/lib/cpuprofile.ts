/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time per
 * function (name, file, line) and per file or package, from the sample
 * deltas. Used by `npm run bench -- --profile` and `tsx bench/profile.ts`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time minus `(idle)`: what the process was busy with. */
  busyMs: number;
  functions: SelfTime[];
  files: SelfTime[];
  /** Total (inclusive) time of the service's own functions (dist/), each counted once per sample. */
  ownTotals: SelfTime[];
}

/** `node_modules/<package>` (scoped too), `dist/<path>`, `node:<module>`, or the V8 pseudo-frames. */
export function fileOf(url: string, functionName: string): string {
  if (!url) return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** `skipMs`: leave out the first milliseconds of the profile (start-up, warm-up). */
export function summarizeProfile(path: string, top = 25, skipMs = 0): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map<number, number>();
  let elapsedUs = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    elapsedUs += delta;
    if (elapsedUs < skipMs * 1000) continue;
    const id = profile.samples[index]!;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta);
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const keyOf = (frame: ProfileNode['callFrame']) => {
    const file = fileOf(frame.url, frame.functionName);
    return `${frame.functionName || '(anonymous)'}  ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
  };
  const ownTotals = new Map<string, number>();
  for (const [id, us] of selfByNode) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!frame.url.includes('/dist/')) continue;
      const key = keyOf(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      ownTotals.set(key, (ownTotals.get(key) ?? 0) + us);
    }
  }
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfByNode) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const file = fileOf(frame.url, frame.functionName);
    const name = keyOf(frame);
    functions.set(name, (functions.get(name) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        percent: Math.round((us / Math.max(1, busyUs)) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    functions: rank(functions),
    files: rank(files),
    ownTotals: rank(ownTotals),
  };
}

export function formatProfile(summary: ProfileSummary, title: string): string {
  const lines = [
    `${title}: ${summary.busyMs} ms busy of ${summary.totalMs} ms sampled (self time, % of busy)`,
  ];
  lines.push('  by function:');
  for (const entry of summary.functions)
    lines.push(
      `    ${entry.percent.toFixed(1).padStart(5)}%  ${entry.ms.toFixed(1).padStart(8)} ms  ${entry.name}`,
    );
  lines.push('  by file / package:');
  for (const entry of summary.files)
    lines.push(
      `    ${entry.percent.toFixed(1).padStart(5)}%  ${entry.ms.toFixed(1).padStart(8)} ms  ${entry.name}`,
    );
  lines.push("  the service's own functions (dist/), total time including what they call:");
  for (const entry of summary.ownTotals)
    lines.push(
      `    ${entry.percent.toFixed(1).padStart(5)}%  ${entry.ms.toFixed(1).padStart(8)} ms  ${entry.name}`,
    );
  return lines.join('\n');
}
