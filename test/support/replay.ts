/**
 * Rebuilds a record from an event history as a reader sees it (an SSE
 * stream, or a log kept from an earlier version): the record as accepted,
 * then every event through the reducer.
 */

import type { AnalysisEventPayload } from '../../src/analyses/events.js';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { newRecord } from '../../src/analyses/record.js';
import { reduceAll } from '../../src/analyses/reduce.js';

/** An event as a client receives it: its `data` carries `analysisId` and `timestamp`. */
export interface WireEvent {
  event: string;
  data: Record<string, unknown>;
}

/** The record as accepted, from what an ended record still says about its start. */
export function acceptedRecordOf(final: AnalysisRecord): AnalysisRecord {
  return newRecord({
    id: final.id,
    pattern: { name: final.pattern, stages: final.stages },
    models: final.models,
    synthesisModel: final.synthesisModel,
    warnings: final.warnings,
    metadata: final.metadata,
    messages: final.messages,
    parentId: final.parentId,
    createdAt: Date.parse(final.createdAt),
    links: final.links,
    webhook: final.webhook ? { url: final.webhook.url } : undefined,
    estimate: final.estimate,
  });
}

/** How long the ended record is kept, from its own times (the reducer's one piece of context). */
export function ttlSecondsOf(final: AnalysisRecord): number {
  if (!final.completedAt || !final.expiresAt) return 0;
  return (Date.parse(final.expiresAt) - Date.parse(final.completedAt)) / 1000;
}

/** Reduces a received history into a record. */
export function replay(final: AnalysisRecord, events: readonly WireEvent[]): AnalysisRecord {
  return reduceAll(
    acceptedRecordOf(final),
    events.map(({ event, data }) => {
      const { analysisId: _id, timestamp, ...rest } = data;
      return {
        event: { type: event, data: rest } as AnalysisEventPayload,
        at: Date.parse(String(timestamp)),
      };
    }),
    { ttlSeconds: ttlSecondsOf(final) },
  );
}
