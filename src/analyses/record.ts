import type { AnalysisRecord } from '../domain/analysis.js';

export interface NewRecordInput {
  id: string;
  pattern: { name: string; stages: ReadonlyArray<{ name: string; mode: 'each' | 'one' }> };
  models: string[];
  synthesisModel: string;
  warnings: string[];
  metadata: Record<string, unknown>;
  /** Epoch milliseconds. */
  createdAt: number;
  links: AnalysisRecord['links'];
}

/** The record of an analysis just accepted: what every event after `analysis.queued` reduces from. */
export function newRecord(input: NewRecordInput): AnalysisRecord {
  const createdAt = new Date(input.createdAt).toISOString();
  return {
    id: input.id,
    status: 'queued',
    pattern: input.pattern.name,
    models: input.models,
    synthesisModel: input.synthesisModel,
    progress: { stage: null, progress: 0, message: 'Queued.', timestamp: createdAt, details: {} },
    stages: input.pattern.stages.map((stage) => ({
      name: stage.name,
      mode: stage.mode,
      status: 'pending',
      startedAt: null,
      completedAt: null,
      reason: null,
      responses: [],
    })),
    result: null,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    error: null,
    warnings: input.warnings,
    metadata: input.metadata,
    createdAt,
    startedAt: null,
    completedAt: null,
    expiresAt: null,
    links: input.links,
  };
}
