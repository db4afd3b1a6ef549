import type { CallSettings } from '../models/settings.js';
import type { RunRequest } from '../orchestration/events.js';
import type { PatternDefinition } from '../orchestration/patterns/types.js';
import type { TraceCarrier } from './tracing/tracing.js';

/** What the runner needs besides the record: never shown to clients. */
export interface AnalysisJob extends RunRequest {
  /** The pattern as it was when the analysis was accepted (any worker can run it). */
  pattern: PatternDefinition;
  /** Each model's call settings, adapted once when the analysis was accepted (absent in jobs accepted before). */
  settings?: Record<string, CallSettings> | undefined;
  /** The budget window its worst case was reserved in; undefined when its key has no budget. */
  budgetWindow?: string | undefined;
  /** The trace the analysis continues (the request that submitted it); whichever worker runs it joins it. */
  trace?: TraceCarrier | undefined;
}
