/** How validation problems are reported: zod issues and rule issues as JSON Pointer + message. */

import type { z } from 'zod';
import { RUN_OPTION_KEYS } from '../run-options-schema.js';
import { DEFAULTS_KEYS, PATTERN_KEYS, STAGE_KEYS } from './pattern-schema.js';

export interface PatternValidationError {
  /** JSON Pointer (RFC 6901) into the input, e.g. `/stages/1/template`; `` for the whole input. */
  path: string;
  message: string;
}

/** Escapes one JSON Pointer reference token (RFC 6901). */
export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function toJsonPointer(path: ReadonlyArray<PropertyKey>): string {
  return path.map((seg) => `/${escapePointerToken(typeof seg === 'symbol' ? String(seg) : seg)}`).join('');
}

/** Each zod issue as the problems it reports (one per unknown key), produced only as far as they are read. */
export function* zodIssuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  allowedKeys: (path: PropertyKey[]) => string,
): Generator<PatternValidationError> {
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        yield {
          path: toJsonPointer([...issue.path, key]),
          message: `unknown key "${key}"; allowed keys: ${allowedKeys(issue.path)}`,
        };
    } else {
      yield { path: toJsonPointer(issue.path), message: issue.message };
    }
  }
}

export function issueCount(issues: readonly z.core.$ZodIssue[]): number {
  let total = 0;
  for (const issue of issues) total += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
  return total;
}

export function allowedKeysAt(path: PropertyKey[]): string {
  if (path[0] === 'defaults') return (path.length === 1 ? DEFAULTS_KEYS : RUN_OPTION_KEYS).join(', ');
  return (path.length === 0 ? PATTERN_KEYS : STAGE_KEYS).join(', ');
}
