/**
 * How request bodies become values: the JSON parser (an empty body counts as
 * none; a prototype-polluting key is a validation problem naming where it is)
 * and the zod validator compiler (at most MAX_VALIDATION_ERRORS problems are
 * listed, whatever the body holds).
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { capList } from '../util/cap-list.js';
import { HttpProblem, toPointer } from './problem.js';

interface ValidationIssue {
  instancePath: string;
  message: string;
  keyword: string;
  schemaPath: string;
  params: Record<string, unknown>;
}

/** The one entry that stands for the problems left out. */
export function moreProblems(rest: number): { path: string; message: string } {
  return {
    path: '',
    message: `and ${rest} more problem${rest === 1 ? '' : 's'} (only the first are listed; MAX_VALIDATION_ERRORS)`,
  };
}

function issue(path: readonly PropertyKey[], message: string, keyword: string): ValidationIssue {
  return { instancePath: toPointer(path), message, keyword, schemaPath: '', params: {} };
}

/** Each zod issue as the problems it reports (one per unknown key), produced only as far as they are read. */
function* expand(issues: readonly z.core.$ZodIssue[]): Generator<ValidationIssue> {
  for (const item of issues) {
    if (item.code === 'unrecognized_keys') {
      for (const key of item.keys) {
        yield issue(
          [...item.path, key],
          `unknown field "${key}": remove it or check its spelling`,
          item.code,
        );
      }
    } else {
      yield issue(item.path, item.message, item.code);
    }
  }
}

function count(issues: readonly z.core.$ZodIssue[]): number {
  let total = 0;
  for (const item of issues) total += item.code === 'unrecognized_keys' ? item.keys.length : 1;
  return total;
}

/** zod validates input; a failure lists at most `maxErrors` problems and counts the rest in one entry. */
export function zodValidatorCompiler(maxErrors: number) {
  return ({ schema }: { schema: unknown }) =>
    (data: unknown) => {
      const result = (schema as z.ZodType).safeParse(data);
      if (result.success) return { value: result.data };
      const { issues } = result.error;
      return {
        error: capList(expand(issues), maxErrors, count(issues), (rest) => {
          const more = moreProblems(rest);
          return issue([], more.message, 'more');
        }),
      };
    };
}

/** A path as a chain of links, so a deep document costs one link per value, not a copied array. */
interface Link {
  key: PropertyKey;
  parent: Link | undefined;
}

function pointerOf(link: Link | undefined, ...tail: string[]): string {
  const keys: PropertyKey[] = [];
  for (let at = link; at; at = at.parent) keys.push(at.key);
  return toPointer([...keys.reverse(), ...tail]);
}

/** Where the first `__proto__` (or `constructor.prototype`) key of a JSON text is, as a JSON Pointer. */
export function forbiddenKeyPath(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const stack: Array<[unknown, Link | undefined]> = [[value, undefined]];
  while (stack.length > 0) {
    const [item, link] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (Object.hasOwn(item, '__proto__')) return pointerOf(link, '__proto__');
    const ctor = Object.hasOwn(item, 'constructor')
      ? (item as Record<string, unknown>).constructor
      : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) {
      return pointerOf(link, 'constructor', 'prototype');
    }
    const entries = Object.entries(item);
    for (let index = entries.length - 1; index >= 0; index--) {
      const [key, child] = entries[index]!;
      stack.push([child, { key: Array.isArray(item) ? Number(key) : key, parent: link }]);
    }
  }
  return undefined;
}

/** The JSON body parser: an empty body with a JSON content type (some clients send one with every POST) counts as no body. */
export function registerJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, (error, value) => {
      // Fastify reports a forbidden key as invalid JSON: find out whether that is what it was.
      const path = error && /__proto__|prototype|\\u/.test(text) ? forbiddenKeyPath(text) : undefined;
      if (path === undefined) return done(error, value);
      const key = path.endsWith('/prototype') ? 'constructor.prototype' : '__proto__';
      done(
        new HttpProblem('validation', `The body uses the key "${key}", which is never accepted: remove it.`, {
          errors: [{ path, message: `"${key}" is not accepted as a key: remove it` }],
        }),
      );
    });
  });
}
