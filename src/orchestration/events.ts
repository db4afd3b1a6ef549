import { CALL_ERROR_CODES } from '../models/errors.js';
import type { ChatMessage, Usage } from '../providers/spec.js';

/** The codes a pattern run ends with: a model call's, and the run's own. */
export const ENGINE_ERROR_CODES = [...CALL_ERROR_CODES, 'quorum_not_met', 'budget_exceeded'] as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];

/** What the engine says about a failure: a contract code and a sentence for the user. */
export interface ErrorInfo<Code extends string = EngineErrorCode> {
  code: Code;
  message: string;
}

export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface RankingEntry {
  model: string;
  averageRank: number;
  votes: number;
}

/** The answer a pattern run ends with. */
export interface AnalysisResult {
  text: string;
  model: string;
  fallbackFrom: string | null;
  degraded: boolean;
  ranking?: RankingEntry[];
  unparsedRankings?: number;
}

/** The options of a run, as the client gave them. */
export interface RunOptions {
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  timeoutMs?: number | undefined;
  cache?: boolean | undefined;
  minResponses?: number | undefined;
  maxCostUsd?: number | undefined;
}

/** What the engine is asked: the question, for whom, with which options. */
export interface RunRequest {
  id: string;
  owner: string;
  prompt: string;
  system: string | undefined;
  /** The conversation's turns before the last user turn, sent ahead of every stage's template. */
  history?: readonly ChatMessage[] | undefined;
  options: RunOptions;
}

/** The events the engine emits while it walks a pattern; it emits nothing else. */
export type EngineEvent =
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
    };
