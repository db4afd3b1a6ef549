import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './env.js';

/** A validated configuration file and the line of any path in it. */
export interface ParsedFile<T> {
  data: T;
  lineOf(segments: PropertyKey[]): number;
}

/**
 * Reads a YAML (or JSON: JSON is YAML) file named by `variable` and validates
 * it with `schema`; every problem names the file and line, and the field.
 */
export function readYamlFile<S extends z.ZodType>(
  variable: string,
  path: string,
  schema: S,
): ParsedFile<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${variable}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = first.linePos?.[0]?.line ?? 1;
    throw new ConfigError(`${variable} ${path}:${line}: ${first.message.split('\n')[0]}`);
  }
  const lineOf = (segments: PropertyKey[]): number => {
    let node: unknown = document.contents;
    let found = 1;
    for (const segment of segments) {
      if (isMap(node)) node = node.get(segment as string, true);
      else if (isSeq(node)) node = node.get(segment as number, true);
      else break;
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) found = lineCounter.linePos(range[0]).line;
    }
    return found;
  };
  const parsed = schema.safeParse(document.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${path}:${lineOf(issue.path)}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new ConfigError(`${variable} is invalid:\n  ${problems.join('\n  ')}`);
  }
  return { data: parsed.data, lineOf };
}
