import type { AdapterModel, AdapterSettings } from '../shared/settings.js';

export interface SimModel extends AdapterModel {
  /** How long a whole answer takes. */
  latencyMs?: number | undefined;
  /** Probability (0–1) that a call fails half-way. */
  failureRate?: number | undefined;
}

/** The built-in simulator: deterministic answers, no network. */
export type SimSettings = AdapterSettings<SimModel>;
