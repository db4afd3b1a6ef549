import picomatch from 'picomatch';
import { ServiceError } from './errors.js';

export type BudgetPeriod = 'day' | 'month' | 'total';

/** What one API key may do: the models and patterns it may use, what it may spend. */
export interface KeyPolicy {
  /** The key's name: analyses, custom patterns and usage belong to it. */
  name: string;
  budget?: { usd: number; period: BudgetPeriod } | undefined;
  /** Globs of the models it may use; undefined = all. */
  models?: string[] | undefined;
  /** Globs of the patterns it may use; undefined = all. */
  patterns?: string[] | undefined;
  admin: boolean;
}

const matchers = new WeakMap<string[], (value: string) => boolean>();

function allowedBy(globs: string[] | undefined, value: string): boolean {
  if (globs === undefined) return true;
  let match = matchers.get(globs);
  if (!match) {
    match = picomatch(globs, { dot: true });
    matchers.set(globs, match);
  }
  return match(value);
}

/** Refuses (403) a pattern or models the key may not use, naming them and what it may use. */
export function checkAllowed(key: KeyPolicy | undefined, pattern: string, models: readonly string[]): void {
  if (!key) return;
  if (!allowedBy(key.patterns, pattern)) {
    throw new ServiceError(
      'forbidden',
      `API key "${key.name}" may not use pattern "${pattern}" (it may use: ${key.patterns!.join(', ') || 'none'}).`,
      { errors: [{ path: '/pattern', message: `Pattern "${pattern}" is not allowed for this key.` }] },
    );
  }
  const refused = [...new Set(models)].filter((model) => !allowedBy(key.models, model));
  if (refused.length > 0) {
    throw new ServiceError(
      'forbidden',
      `API key "${key.name}" may not use ${refused.length === 1 ? 'model' : 'models'} ${refused.join(', ')} (it may use: ${key.models!.join(', ') || 'none'}).`,
      {
        errors: refused.map((model) => ({
          path: '/models',
          message: `Model "${model}" is not allowed for this key.`,
        })),
      },
    );
  }
}
