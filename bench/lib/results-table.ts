/** The results table the bench prints: one row per headline figure, columns padded to fit. */
import type { ScenarioRecord } from './results-file.js';
import { rowsFor } from './scenario-rows.js';

export interface Row {
  scenario: string;
  figure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const HEADER: Row = {
  scenario: 'scenario',
  figure: 'figure',
  value: 'value',
  baseline: 'baseline',
  ratio: 'ratio',
  target: 'target',
  met: 'met',
};

/** The table of every scenario's rows, under a header line. */
export function formatTable(results: Record<string, ScenarioRecord>): string {
  const rows = Object.entries(results).flatMap(([name, record]) => rowsFor(name, record));
  const keys = Object.keys(HEADER) as (keyof Row)[];
  const widths = keys.map((key) => Math.max(...[HEADER, ...rows].map((row) => row[key].length)));
  const line = (row: Row) => keys.map((key, index) => row[key].padEnd(widths[index]!)).join(' | ');
  return [line(HEADER), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)].join('\n');
}
