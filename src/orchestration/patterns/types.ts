/** A pattern is data: a list of stages, each rendered from a template. */

import type { RunOptions } from '../events.js';

export type StageMode = 'each' | 'one';

export interface StageDefinition {
  name: string;
  mode: StageMode;
  /** `{{variable}}` placeholders: see orchestration/template.ts for the variables. */
  template: string;
  /** Label other models' outputs `Response A`, `Response B`, … instead of by model id. */
  anonymize?: boolean | undefined;
  /** Quorum for an `each` stage; overrides the request's `options.minResponses`. */
  minResponses?: number | undefined;
  /** Post-processing of the stage's outputs (the council's ranking parser). */
  parse?: 'ranking' | undefined;
}

/** What a pattern runs with when a request names none: a named panel. */
export interface PatternDefaults {
  models?: string[] | undefined;
  synthesisModel?: string | undefined;
  options?: RunOptions | undefined;
}

export interface PatternDefinition {
  name: string;
  title: string;
  description: string;
  stages: StageDefinition[];
  defaults?: PatternDefaults | undefined;
}
