/** The rows each scenario adds to the results table: its headline figures against their targets. */
import type { ScenarioRecord } from './results-file.js';
import type { Row } from './results-table.js';

/** A number to `digits` decimals; anything else as text, missing as a dash. */
const fmt = (value: unknown, digits = 2): string =>
  typeof value === 'number'
    ? Number.isFinite(value)
      ? value.toFixed(digits)
      : String(value)
    : String(value ?? '—');

const ratioOf = (a: unknown, b: unknown): string =>
  typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';

const mark = (met: boolean | undefined): string => (met === undefined ? '—' : met ? 'pass' : 'FAIL');

/** Builds one scenario's rows. */
interface RowMaker {
  row(figure: string, value: string, baseline: string, ratio: string, target: string, met: string): Row;
  /** A figure with no baseline: only its target and whether it was met. */
  absolute(figure: string, value: string, target: string, met: string): Row;
  /** A figure against its baseline, both to `digits` digits, and their ratio. */
  versus(figure: string, value: unknown, baseline: unknown, digits: number, target: string, met: string): Row;
  /** A figure reported for information: no baseline, no target. */
  info(figure: string, value: string): Row;
}

function rowMaker(scenario: string): RowMaker {
  const row: RowMaker['row'] = (figure, value, baseline, ratio, target, met) => ({
    scenario,
    figure,
    value,
    baseline,
    ratio,
    target,
    met,
  });
  return {
    row,
    absolute: (figure, value, target, met) => row(figure, value, '—', '—', target, met),
    versus: (figure, value, baseline, digits, target, met) =>
      row(figure, fmt(value, digits), fmt(baseline, digits), ratioOf(value, baseline), target, met),
    info: (figure, value) => row(figure, value, '—', '—', '—', '—'),
  };
}

type Figures = Record<string, unknown>;
type Checks = Record<string, boolean>;
type ScenarioRows = (f: Figures, c: Checks, make: RowMaker) => Row[];

const overhead: ScenarioRows = (f, c, { row }) => [
  row(
    'added median ms',
    fmt(f.medianMs),
    fmt(f.floorMedianMs),
    `+${fmt((f.medianMs as number) - (f.floorMedianMs as number))} ms`,
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

const chatSurface: ScenarioRows = (f, c, { absolute }) => {
  const added = f.addedMedianMs as { whole?: number; streamed?: number } | undefined;
  return [
    absolute(
      '/openai/v1 added median ms (not streamed)',
      fmt(added?.whole),
      '≤ native + 0.2 ms',
      mark(c.whole),
    ),
    absolute(
      '/openai/v1 added median ms (streamed)',
      fmt(added?.streamed),
      '≤ native + 0.2 ms',
      mark(c.streamed),
    ),
  ];
};

const criticalPath: ScenarioRows = (f, c, { row }) => {
  const added = f.addedMs as { p50: number } | undefined;
  const floor = f.floor as
    | { addedMs?: { p50: number }; addedBreakdownMs?: Record<string, number> }
    | undefined;
  const breakdown = (parts: Record<string, number> | undefined) =>
    parts
      ? [parts.leadInMs, parts.stageSkewMs, parts.stageGapsMs, parts.tailMs].map((v) => fmt(v, 1)).join('/')
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
};

const fanOut: ScenarioRows = (f, c, { row }) => {
  const byModels = f.medianMsByModels as Record<string, number>;
  return [
    row(
      'median ms, 12 vs 1 model',
      fmt(byModels['12'], 1),
      fmt(byModels['1'], 1),
      `${fmt(f.ratio12to1, 3)}×`,
      '≤ 1.10×',
      mark(c.ratio12to1),
    ),
  ];
};

const latencyUnderLoad: ScenarioRows = (f, c, { absolute }) => [
  absolute(`p99 added ms (${f.inFlight} in flight)`, fmt(f.p99AddedMs, 1), '≤ 100 ms', mark(c.p99AddedMs)),
];

const capacity: ScenarioRows = (f, c, { absolute, versus }) => [
  absolute(
    `succeeded / total (${f.inFlight} in flight)`,
    `${f.succeeded}/${f.total}`,
    'all',
    mark(c.allSucceeded),
  ),
  versus('CPU ms per model call', f.cpuMsPerModelCall, f.baselineCpuMsPerCall, 3, '≤ 1.5×', mark(c.cpu)),
  versus(
    'model calls per second',
    f.modelCallsPerSecond,
    f.baselineCallsPerSecond,
    0,
    '≥ 0.6×',
    mark(c.throughput),
  ),
];

const sse: ScenarioRows = (f, c, { absolute, versus }) => [
  absolute(
    `all ${f.subscribers} got all ${f.events} events`,
    String(f.allReceivedAll),
    'true',
    mark(c.allReceivedAll),
  ),
  versus('p99 delivery lag ms', f.p99LagMs, f.baselineP99LagMs, 1, '≤ 1.5×', mark(c.p99Lag)),
];

interface LargeMetadata {
  analyses: number;
  metadataBytes: number;
  perAnalysisKb: number;
  storeBytesPerAnalysisKb: number | null;
}

interface OversizedMetadata {
  analyses: number;
  statuses: Record<string, number>;
  heapHeldMb: number;
}

const memory: ScenarioRows = (f, c, { row, absolute, info }) => {
  const large = f.largeMetadata as LargeMetadata | undefined;
  const oversized = f.oversizedMetadata as OversizedMetadata | undefined;
  const largeKb = fmt((large?.metadataBytes ?? 0) / 1024, 0);
  return [
    absolute(
      `KB per retained analysis (${f.analyses})`,
      fmt(f.perAnalysisKb, 1),
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
    info(`KB per analysis, ${largeKb} KB metadata (${large?.analyses})`, fmt(large?.perAnalysisKb, 1)),
    info('store bytes per analysis, same (KB)', fmt(large?.storeBytesPerAnalysisKb, 1)),
    info(`1.8 MB metadata: accepted of ${oversized?.analyses}`, String(oversized?.statuses?.['200'] ?? 0)),
    info('1.8 MB metadata: heap held (MB)', fmt(oversized?.heapHeldMb, 1)),
  ];
};

const ROWS: Record<string, ScenarioRows> = {
  overhead,
  chatSurface,
  criticalPath,
  fanOut,
  latencyUnderLoad,
  capacity,
  sse,
  memory,
};

export function rowsFor(name: string, record: ScenarioRecord): Row[] {
  const make = rowMaker(name);
  if (record.error) {
    return [make.row('error', record.error.split('\n')[0]!.slice(0, 60), '', '', '', 'ERROR')];
  }
  return ROWS[name]?.(record, record.checks, make) ?? [];
}
