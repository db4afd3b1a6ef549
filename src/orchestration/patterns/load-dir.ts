/**
 * Loading custom patterns from `PATTERNS_DIR`: every `*.yaml` / `*.yml` file in
 * the folder (not its subfolders) holds one pattern. Any problem — bad YAML,
 * an invalid pattern, a name used twice or taken by a built-in — stops the
 * load with one error that lists every problem with its file and line.
 */

import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { BUILT_IN_PATTERN_NAMES } from './index.js';
import type { PatternDefinition } from './types.js';
import { type PatternValidationOptions, validatePatternDefinition } from './validate.js';

export interface PatternFileProblem {
  /** The file's name inside the folder. */
  file: string;
  /** 1-based line of the problem (1 when it concerns the whole file). */
  line: number;
  /** JSON Pointer into the pattern, or `null` for a YAML syntax problem. */
  path: string | null;
  message: string;
}

export class PatternLoadError extends Error {
  override readonly name = 'PatternLoadError';
  constructor(
    readonly dir: string,
    readonly problems: PatternFileProblem[],
  ) {
    const lines = problems.map(
      (p) =>
        `  ${p.file}:${p.line}: ${p.path === null ? '' : `${p.path === '' ? '(pattern)' : p.path}: `}${p.message}`,
    );
    super(
      `Invalid pattern ${problems.length === 1 ? 'file' : 'files'} in ${dir} (${problems.length} ${
        problems.length === 1 ? 'problem' : 'problems'
      }):\n${lines.join('\n')}`,
    );
  }
}

export interface LoadPatternsDirOptions extends PatternValidationOptions {
  /** Names a file may not use (default: the built-in pattern names). */
  reservedNames?: Iterable<string>;
}

const PATTERN_FILE_RE = /\.ya?ml$/i;

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
  const files = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && PATTERN_FILE_RE.test(e.name))
    .map((e) => e.name)
    .sort();

  const reserved = new Set(options.reservedNames ?? BUILT_IN_PATTERN_NAMES);
  const problems: PatternFileProblem[] = [];
  const patterns: PatternDefinition[] = [];
  const seen = new Map<string, string>();

  for (const file of files) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (err) {
      problems.push({
        file,
        line: 1,
        path: null,
        message: `cannot read the file: ${(err as Error).message}`,
      });
      continue;
    }
    const result = loadPatternFile(file, text, options);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const { pattern, nameLine } = result;
    const other = seen.get(pattern.name);
    if (reserved.has(pattern.name)) {
      problems.push({
        file,
        line: nameLine,
        path: '/name',
        message: `"${pattern.name}" is the name of a built-in pattern; choose another name`,
      });
    } else if (other !== undefined) {
      problems.push({
        file,
        line: nameLine,
        path: '/name',
        message: `pattern name "${pattern.name}" is already used by ${other}; names must be unique`,
      });
    } else {
      seen.set(pattern.name, file);
      patterns.push(pattern);
    }
  }

  if (problems.length > 0) throw new PatternLoadError(dir, problems);
  return patterns;
}

type FileResult =
  | { ok: true; pattern: PatternDefinition; nameLine: number }
  | { ok: false; problems: PatternFileProblem[] };

function loadPatternFile(file: string, text: string, options: PatternValidationOptions): FileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((err) => ({
        file,
        line: lineCounter.linePos(err.pos[0]).line,
        path: null,
        message: `YAML syntax error: ${err.message.split('\n')[0]}`,
      })),
    };
  }

  const lineOf = (pointer: string) => {
    const offset = offsetOf(doc, pointer);
    return offset === undefined ? 1 : lineCounter.linePos(offset).line;
  };

  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    return { ok: false, problems: [{ file, line: 1, path: null, message: (err as Error).message }] };
  }
  const result = validatePatternDefinition(value, options);
  if (!result.ok) {
    const problems = result.errors.map((e) => ({
      file,
      line: lineOf(e.path),
      path: e.path,
      message: e.message,
    }));
    problems.sort((a, b) => a.line - b.line);
    return { ok: false, problems };
  }
  return { ok: true, pattern: result.pattern, nameLine: lineOf('/name') };
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Where in the source the value at `pointer` is: a map member's key, a list
 * item, or — when the pointer leads to something absent — the nearest
 * existing ancestor.
 */
function offsetOf(doc: Document, pointer: string): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const token of parsePointer(pointer)) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === token,
      );
      if (!pair) break;
      offset = rangeStart(pair.key) ?? rangeStart(pair.value) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = /^\d+$/.test(token) ? node.items[Number(token)] : undefined;
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}
