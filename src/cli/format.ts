import type { AnalysisRecord } from '../analyses/record.js';
import type { RankingEntry } from '../orchestration/events.js';

/** Columns padded to their widest cell (plain text: it reads the same in a pipe). */
export function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatRanking(ranking: readonly RankingEntry[]): string {
  return table([
    ['#', 'model', 'average rank', 'votes'],
    ...ranking.map((entry, index) => [
      String(index + 1),
      entry.model,
      entry.averageRank.toFixed(2),
      String(entry.votes),
    ]),
  ]);
}

export function formatUsage(usage: AnalysisRecord['usage']): string {
  return `${usage.inputTokens} in / ${usage.outputTokens} out tokens · $${usage.costUsd.toFixed(4)}`;
}

interface Summary {
  id: string;
  title?: string;
  status: string;
  pattern: string;
  createdAt: string;
}

export function formatList(data: readonly Summary[], nextCursor: string | null): string {
  if (data.length === 0) return 'No analyses yet: start one with `chorus ask "your question"`.';
  const rows = data.map((item) => [item.id, item.status, item.pattern, item.createdAt, item.title ?? '']);
  const more = nextCursor ? `\nmore: chorus list --cursor ${nextCursor}` : '';
  return `${table([['id', 'status', 'pattern', 'created', 'title'], ...rows])}${more}`;
}

/** A record for people: status, every stage and response, the answer. */
export function formatRecord(record: AnalysisRecord): string {
  const lines = [
    `${record.id}  ${record.status}  ${record.pattern}  ${record.models.join(', ')}`,
    `created ${record.createdAt}${record.completedAt ? `, ended ${record.completedAt}` : ''}`,
    `usage: ${formatUsage(record.usage)}`,
  ];
  for (const stage of record.stages) {
    lines.push('', `## ${stage.name} (${stage.status}${stage.reason ? `: ${stage.reason}` : ''})`);
    for (const response of stage.responses) {
      const outcome =
        response.status === 'succeeded'
          ? `${response.latencyMs} ms`
          : `${response.error?.code}: ${response.error?.message}`;
      lines.push(`### ${response.model} · ${outcome}`);
      if (response.text) lines.push(response.text);
    }
  }
  if (record.error) lines.push('', `error: ${record.error.code}: ${record.error.message}`);
  if (record.result) {
    lines.push(
      '',
      `# Answer (${record.result.model}${record.result.degraded ? ', degraded' : ''})`,
      record.result.text,
    );
    if (record.result.ranking?.length) lines.push('', '# Ranking', formatRanking(record.result.ranking));
  }
  return lines.join('\n');
}

interface ModelView {
  id: string;
  available: boolean;
  circuit: string;
  weight: number;
  tags: string[];
}

export function formatModels(models: readonly ModelView[]): string {
  return table([
    ['id', 'available', 'circuit', 'weight', 'tags'],
    ...models.map((m) => [m.id, m.available ? 'yes' : 'no', m.circuit, String(m.weight), m.tags.join(',')]),
  ]);
}

interface PatternView {
  name: string;
  title: string;
  stages: Array<{ name: string; mode: string }>;
}

export function formatPatterns(patterns: readonly PatternView[]): string {
  return table([
    ['name', 'stages', 'title'],
    ...patterns.map((p) => [p.name, p.stages.map((s) => s.name).join(' → '), p.title]),
  ]);
}
