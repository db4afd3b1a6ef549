import type { AnalysisResult, RankingEntry } from './events.js';
import { aggregateRankings, parseRanking } from './ranking.js';
import type { StageInputs, StageOutput } from './stage-inputs.js';

/** The council's ranking, from the reviews of its ranking stage. */
export interface CouncilRanking {
  ranking: RankingEntry[];
  /** Reviews in which no ranking could be read. */
  unparsed: number;
}

/**
 * Parses the reviews of a ranking stage (labels → models through the stage's
 * anonymized labelling) and aggregates them into the council's ranking.
 */
export function rankCouncil(outputs: StageOutput[], inputs: StageInputs): CouncilRanking {
  const labelToModel = inputs.labelMap();
  const labels = [...labelToModel.keys()];
  const parsed: Array<{ order: string[] }> = [];
  let unparsed = 0;
  for (const output of outputs) {
    const review = parseRanking(output.text, labels);
    if (review.order && review.order.length > 0) parsed.push({ order: review.order });
    else unparsed++;
  }
  return { ranking: aggregateRankings(parsed, labelToModel), unparsed };
}

/** A council's result with its `ranking` and `unparsedRankings`. */
export function withRanking(
  result: AnalysisResult | null,
  council: CouncilRanking | undefined,
): AnalysisResult | null {
  if (!council || !result) return result;
  return { ...result, ranking: council.ranking, unparsedRankings: council.unparsed };
}
