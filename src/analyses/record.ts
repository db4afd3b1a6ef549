import {
  type AnalysisResult,
  ENGINE_ERROR_CODES,
  type ErrorInfo,
  type StageStatus,
} from '../orchestration/events.js';
import type { Usage } from '../providers/spec.js';
import type { ConversationMessage } from './conversation.js';
import type { AnalysisEstimate } from './estimate.js';
import type { AnalysisWebhook } from './webhooks/types.js';

/** Every code the contract names: the engine's, and a job's own (its workers kept dying). */
export const ERROR_CODES = [...ENGINE_ERROR_CODES, 'worker_lost'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How an analysis failed. */
export type JobErrorInfo = ErrorInfo<ErrorCode>;

export type AnalysisStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: ReadonlySet<AnalysisStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export interface ModelResponse {
  model: string;
  status: 'succeeded' | 'failed';
  text: string | null;
  error: ErrorInfo | null;
  latencyMs: number;
  attempts: number;
  cached: boolean;
  usage: Usage;
  costUsd: number;
}

export interface StageRecord {
  name: string;
  mode: 'each' | 'one';
  status: StageStatus;
  startedAt: string | null;
  completedAt: string | null;
  reason: string | null;
  responses: ModelResponse[];
}

export interface Progress {
  stage: string | null;
  progress: number;
  message: string;
  timestamp: string;
  details: Record<string, unknown>;
}

/** The analysis as clients see it: the reduction of its events (`reduce.ts`). */
export interface AnalysisRecord {
  id: string;
  status: AnalysisStatus;
  pattern: string;
  models: string[];
  synthesisModel: string;
  progress: Progress;
  stages: StageRecord[];
  result: AnalysisResult | null;
  usage: Usage & { costUsd: number };
  /** The estimate the analysis was admitted with (its `max` is what a budget reserved); absent from records older than estimates. */
  estimate?: AnalysisEstimate | undefined;
  error: JobErrorInfo | null;
  warnings: string[];
  metadata: Record<string, unknown>;
  /** The conversation the models were given, before the stage templates (a prompt is one user turn). */
  messages: ConversationMessage[];
  /** The analysis this one follows up on (`continueFrom`), or null. */
  parentId: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  links: { self: string; events: string };
  /** Where the analysis is delivered when it ends, and how each attempt went; null without one. */
  webhook: AnalysisWebhook | null;
}

export interface AnalysisSummary {
  id: string;
  status: AnalysisStatus;
  pattern: string;
  models: string[];
  progress: Progress;
  createdAt: string;
  completedAt: string | null;
  links: { self: string; events: string };
}

export interface NewRecordInput {
  id: string;
  pattern: { name: string; stages: ReadonlyArray<{ name: string; mode: 'each' | 'one' }> };
  models: string[];
  synthesisModel: string;
  warnings: string[];
  metadata: Record<string, unknown>;
  messages: ConversationMessage[];
  parentId: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
  links: AnalysisRecord['links'];
  webhook?: { url: string } | undefined;
  estimate?: AnalysisEstimate | undefined;
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
    ...(input.estimate ? { estimate: input.estimate } : {}),
    error: null,
    warnings: input.warnings,
    metadata: input.metadata,
    messages: input.messages,
    parentId: input.parentId,
    createdAt,
    startedAt: null,
    completedAt: null,
    expiresAt: null,
    links: input.links,
    webhook: input.webhook ? { url: input.webhook.url, deliveries: [] } : null,
  };
}
