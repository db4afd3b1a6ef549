/** The built-in pattern catalog, in the order `GET /v1/patterns` lists it. */

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PATTERN_FILE_RE, parsePatternFiles } from './pattern-files.js';
import type { PatternDefinition } from './types.js';

/**
 * The folder of the built-in pattern files: `patterns/` at the root of the
 * project, three levels above this module in `src/` and in `dist/` alike.
 * Their file names give the order; they are read once, when Chorus starts.
 */
export const BUILT_IN_PATTERNS_DIR = fileURLToPath(new URL('../../../patterns/', import.meta.url));

function readBuiltIns(): PatternDefinition[] {
  const names = readdirSync(BUILT_IN_PATTERNS_DIR)
    .filter((name) => PATTERN_FILE_RE.test(name))
    .sort();
  const files = names.map((file) => ({
    file,
    text: readFileSync(`${BUILT_IN_PATTERNS_DIR}${file}`, 'utf8'),
  }));
  return parsePatternFiles(BUILT_IN_PATTERNS_DIR, files);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Frozen: patterns are shared by every analysis, so nothing may change them. */
export const BUILT_IN_PATTERNS: readonly PatternDefinition[] = deepFreeze(readBuiltIns());

export const BUILT_IN_PATTERN_NAMES: ReadonlySet<string> = new Set(BUILT_IN_PATTERNS.map((p) => p.name));

/** The built-in pattern with this name, if there is one. */
export function getBuiltInPattern(name: string): PatternDefinition | undefined {
  return BUILT_IN_PATTERNS.find((p) => p.name === name);
}
