import type { AnalysisRecord, RankingEntry } from '../domain/analysis.js';
import { aggregateRankings, parseRanking } from './ranking.js';
import type { StageInputs, StageOutput } from './stage-inputs.js';

/** Parsed council reviews, kept until the result is written. */
const rankings = new WeakMap<AnalysisRecord, { ranking: RankingEntry[]; unparsed: number }>();

/**
 * Parses the reviews of a ranking stage (labels → models through the stage's
 * anonymized labelling) and aggregates them into the council's ranking.
 */
export function finishCouncil(record: AnalysisRecord, outputs: StageOutput[], inputs: StageInputs): void {
  const labelToModel = inputs.labelMap();
  const labels = [...labelToModel.keys()];
  const parsed: Array<{ order: string[] }> = [];
  let unparsed = 0;
  for (const output of outputs) {
    const review = parseRanking(output.text, labels);
    if (review.order && review.order.length > 0) parsed.push({ order: review.order });
    else unparsed++;
  }
  rankings.set(record, { ranking: aggregateRankings(parsed, labelToModel), unparsed });
}

/** Adds `ranking` and `unparsedRankings` to a council's result. */
export function attachRanking(record: AnalysisRecord): void {
  const found = rankings.get(record);
  if (!found || !record.result) return;
  record.result.ranking = found.ranking;
  record.result.unparsedRankings = found.unparsed;
}
