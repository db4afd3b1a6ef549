/**
 * Loading custom patterns from `PATTERNS_DIR`: every `*.yaml` / `*.yml` file in
 * the folder (not its subfolders) holds one pattern (see pattern-files.ts).
 * A name taken by a built-in pattern is a problem like any other.
 */

import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILT_IN_PATTERN_NAMES } from './index.js';
import {
  PATTERN_FILE_RE,
  type PatternFilesOptions,
  type PatternFileText,
  parsePatternFiles,
} from './pattern-files.js';
import type { PatternDefinition } from './types.js';

export { type PatternFileProblem, PatternLoadError } from './pattern-files.js';

/** Options of the load; `reservedNames` defaults to the built-in pattern names. */
export type LoadPatternsDirOptions = PatternFilesOptions;

/**
 * Reads, parses and validates every pattern file in `dir`, in file-name order.
 * Throws a {@link PatternLoadError} listing every problem in every file.
 */
export async function loadPatternsDir(
  dir: string,
  options: LoadPatternsDirOptions = {},
): Promise<PatternDefinition[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`Cannot read the patterns folder ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const names = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && PATTERN_FILE_RE.test(e.name))
    .map((e) => e.name)
    .sort();
  const files = await Promise.all(
    names.map(async (file): Promise<PatternFileText> => {
      try {
        return { file, text: await readFile(join(dir, file), 'utf8') };
      } catch (err) {
        return { file, error: (err as Error).message };
      }
    }),
  );
  return parsePatternFiles(dir, files, {
    ...options,
    reservedNames: options.reservedNames ?? BUILT_IN_PATTERN_NAMES,
  });
}
