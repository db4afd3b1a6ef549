import type { PatternDefinition } from '../orchestration/patterns/types.js';
import type { ErrorCode } from '../providers/errors.js';
import type { Usage } from '../providers/spec.js';

export type AnalysisStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export const TERMINAL_STATUSES: ReadonlySet<AnalysisStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

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

export interface RankingEntry {
  model: string;
  averageRank: number;
  votes: number;
}

export interface AnalysisResult {
  text: string;
  model: string;
  fallbackFrom: string | null;
  degraded: boolean;
  ranking?: RankingEntry[];
  unparsedRankings?: number;
}

export interface AnalysisOptions {
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  timeoutMs?: number | undefined;
  cache?: boolean | undefined;
  minResponses?: number | undefined;
  maxCostUsd?: number | undefined;
}

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
  error: ErrorInfo | null;
  warnings: string[];
  metadata: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  links: { self: string; events: string };
}

/** What the runner needs besides the record: never shown to clients. */
export interface AnalysisJob {
  id: string;
  owner: string;
  prompt: string;
  system: string | undefined;
  options: AnalysisOptions;
  /** The pattern as it was when the analysis was accepted (any worker can run it). */
  pattern: PatternDefinition;
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

/** The contract's events; `analysisId` and `timestamp` are added when the event is stored. */
export type AnalysisEventPayload =
  | { type: 'analysis.queued'; data: Record<string, never> }
  | { type: 'analysis.started'; data: { pattern: string; models: string[]; synthesisModel: string } }
  | { type: 'stage.started'; data: { stage: string; index: number; models: string[] } }
  | { type: 'model.started'; data: { stage: string; model: string; attempt: number } }
  | { type: 'model.delta'; data: { stage: string; model: string; attempt: number; text: string } }
  | {
      type: 'model.completed';
      data: {
        stage: string;
        model: string;
        text: string;
        latencyMs: number;
        usage: Usage;
        cached: boolean;
        attempts: number;
        costUsd: number;
      };
    }
  | {
      type: 'model.failed';
      data: {
        stage: string;
        model: string;
        error: ErrorInfo;
        willRetry: boolean;
        attempt: number;
        /** How long the call took (a final failure); logs written before it was added lack it. */
        latencyMs?: number;
      };
    }
  | {
      type: 'stage.completed';
      data: {
        stage: string;
        index: number;
        succeeded: number;
        failed: number;
        status: StageStatus;
        reason: string | null;
      };
    }
  | {
      type: 'progress';
      data: { stage: string | null; progress: number; message: string; details: Record<string, unknown> };
    }
  | { type: 'analysis.resumed'; data: { fromStage: string; reason: string } }
  | { type: 'analysis.completed'; data: AnalysisRecord }
  | { type: 'analysis.failed'; data: { error: ErrorInfo } }
  | { type: 'analysis.cancelled'; data: Record<string, never> };

export type AnalysisEventType = AnalysisEventPayload['type'];

export const TERMINAL_EVENTS: ReadonlySet<AnalysisEventType> = new Set([
  'analysis.completed',
  'analysis.failed',
  'analysis.cancelled',
]);

/** An event as stored: its SSE frame is serialized once, however many subscribers read it. */
export interface StoredEvent {
  id: number;
  type: AnalysisEventType;
  /** The complete SSE frame: `id: …\nevent: …\ndata: …\n\n`. */
  frame: string;
}
