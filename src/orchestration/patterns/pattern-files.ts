/**
 * Pattern files: one pattern per YAML file, as `PATTERNS_DIR` holds them and
 * as the built-in patterns are kept (in `patterns/` at the root of the
 * project). Every problem — bad YAML, an invalid pattern, a name used twice
 * or reserved — is reported with its file and line, all in one error.
 */

import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
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

export interface PatternFilesOptions extends PatternValidationOptions {
  /** Names a file may not use. */
  reservedNames?: Iterable<string>;
}

export const PATTERN_FILE_RE = /\.ya?ml$/i;

/** A file of the folder: its text, or why it could not be read. */
export type PatternFileText = { file: string; text: string } | { file: string; error: string };

/** Parses and validates the files (in the order given); throws a {@link PatternLoadError} listing every problem. */
export function parsePatternFiles(
  dir: string,
  files: readonly PatternFileText[],
  options: PatternFilesOptions = {},
): PatternDefinition[] {
  const reserved = new Set(options.reservedNames ?? []);
  const problems: PatternFileProblem[] = [];
  const patterns: PatternDefinition[] = [];
  const seen = new Map<string, string>();

  for (const entry of files) {
    const { file } = entry;
    if ('error' in entry) {
      problems.push({ file, line: 1, path: null, message: `cannot read the file: ${entry.error}` });
      continue;
    }
    const result = loadPatternFile(file, entry.text, options);
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
