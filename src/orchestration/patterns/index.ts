/** The built-in pattern catalog, in the order `GET /v1/patterns` lists it. */

import { council } from './council.js';
import {
  confidence,
  critique,
  fact_check,
  gut,
  innovation,
  perspective,
  scenario,
  stakeholder,
  systems,
  time,
} from './four-stage.js';
import { moa } from './moa.js';
import { standard } from './standard.js';
import type { PatternDefinition } from './types.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Frozen: patterns are shared by every analysis, so nothing may change them. */
export const BUILT_IN_PATTERNS: readonly PatternDefinition[] = deepFreeze([
  standard,
  gut,
  confidence,
  critique,
  fact_check,
  perspective,
  scenario,
  stakeholder,
  systems,
  time,
  innovation,
  council,
  moa,
]);

export const BUILT_IN_PATTERN_NAMES: ReadonlySet<string> = new Set(BUILT_IN_PATTERNS.map((p) => p.name));

/** The built-in pattern with this name, if there is one. */
export function getBuiltInPattern(name: string): PatternDefinition | undefined {
  return BUILT_IN_PATTERNS.find((p) => p.name === name);
}
