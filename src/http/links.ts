import type { AnalysisRecord } from '../analyses/record.js';
import type { StreamTokens } from './stream-tokens.js';

/**
 * The links of an analysis: its record, and its event stream with a signed
 * token a browser's EventSource can use. The token outlives the analysis's
 * retention by a day, so a link read late still works while the analysis exists.
 */
export function analysisLinks(tokens: StreamTokens, ttlSeconds: number) {
  return (id: string, createdAtMs: number): AnalysisRecord['links'] => {
    const token = tokens.sign(id, createdAtMs + (ttlSeconds + 86_400) * 1000);
    return { self: `/v1/analyses/${id}`, events: `/v1/analyses/${id}/events?token=${token}` };
  };
}
