import type { PatternDefinition } from './patterns/types.js';

/** What adding a custom pattern did. */
export type AddOutcome = 'added' | 'exists' | 'full';

/** One page of an owner's custom patterns, by name. */
export interface CustomPatternPage {
  patterns: PatternDefinition[];
  /** True when there are patterns after this page. */
  more: boolean;
}

/** Where custom patterns are kept: memory by default, Redis with STORE=redis. */
export interface CustomPatternStore {
  get(owner: string, name: string): Promise<PatternDefinition | undefined>;
  /** The owner's patterns in name order, after `after` (exclusive), at most `limit`. */
  page(owner: string, after: string | undefined, limit: number): Promise<CustomPatternPage>;
  count(owner: string): Promise<number>;
  /** Adds unless the owner already has one of that name (`exists`) or `maxPerOwner` of them (`full`). */
  add(owner: string, pattern: PatternDefinition, maxPerOwner: number): Promise<AddOutcome>;
  /** Replaces the owner's pattern of that name; false (and nothing kept) when the owner has none. */
  replace(owner: string, pattern: PatternDefinition): Promise<boolean>;
  /** Removes the owner's pattern of that name, freeing its place in the count; false when there was none. */
  remove(owner: string, name: string): Promise<boolean>;
}

/** The names after `after`, in order, as far as a page of `limit` needs. */
export function namesAfter(names: string[], after: string | undefined, limit: number) {
  const sorted = names.sort();
  const start = after === undefined ? 0 : sorted.findIndex((name) => name > after);
  const rest = start < 0 ? [] : sorted.slice(start);
  return { names: rest.slice(0, limit), more: rest.length > limit };
}

export class MemoryPatternStore implements CustomPatternStore {
  private readonly patterns = new Map<string, Map<string, PatternDefinition>>();

  async get(owner: string, name: string) {
    return this.patterns.get(owner)?.get(name);
  }

  async page(owner: string, after: string | undefined, limit: number) {
    const mine = this.patterns.get(owner);
    const { names, more } = namesAfter([...(mine?.keys() ?? [])], after, limit);
    return { patterns: names.map((name) => mine!.get(name)!), more };
  }

  async count(owner: string) {
    return this.patterns.get(owner)?.size ?? 0;
  }

  async add(owner: string, pattern: PatternDefinition, maxPerOwner: number): Promise<AddOutcome> {
    let mine = this.patterns.get(owner);
    if (!mine) {
      mine = new Map();
      this.patterns.set(owner, mine);
    }
    if (mine.has(pattern.name)) return 'exists';
    if (mine.size >= maxPerOwner) return 'full';
    mine.set(pattern.name, pattern);
    return 'added';
  }

  async replace(owner: string, pattern: PatternDefinition): Promise<boolean> {
    const mine = this.patterns.get(owner);
    if (!mine?.has(pattern.name)) return false;
    mine.set(pattern.name, pattern);
    return true;
  }

  async remove(owner: string, name: string): Promise<boolean> {
    const mine = this.patterns.get(owner);
    if (!mine?.delete(name)) return false;
    // An owner with no patterns left holds nothing, not even an empty map.
    if (mine.size === 0) this.patterns.delete(owner);
    return true;
  }
}
