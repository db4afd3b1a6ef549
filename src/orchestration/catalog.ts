import { type AddOutcome, type CustomPatternStore, MemoryPatternStore } from './pattern-store.js';
import { BUILT_IN_PATTERNS } from './patterns/index.js';
import type { PatternDefinition } from './patterns/types.js';

export type { AddOutcome, CustomPatternStore } from './pattern-store.js';

/** What changing one of the owner's patterns did: `shared` for a built-in or PATTERNS_DIR pattern, which no one may change. */
export type ChangeOutcome = 'done' | 'missing' | 'shared';
export { MemoryPatternStore } from './pattern-store.js';

/** Where a listing goes on: at a shared pattern (by position) or after a custom one (by name). */
type Position = { shared: number } | { after: string };

/** List cursors are opaque to clients. */
function encodePosition(position: Position): string {
  const text = 'shared' in position ? `s${position.shared}` : `c${position.after}`;
  return Buffer.from(text).toString('base64url');
}

function decodePosition(cursor: string): Position | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (/^s\d{1,6}$/.test(text)) return { shared: Number(text.slice(1)) };
  if (/^c[a-z][a-z0-9_-]{0,63}$/.test(text)) return { after: text.slice(1) };
  return undefined;
}

export interface PatternPage {
  data: PatternDefinition[];
  nextCursor: string | null;
}

export interface CatalogLimits {
  /** Custom patterns one owner may keep (MAX_CUSTOM_PATTERNS_PER_KEY). */
  maxPerOwner: number;
}

/** How many of an owner's own pattern names a "does not exist" answer names. */
const NAMED_CUSTOM = 20;

/**
 * Built-in patterns, patterns loaded from PATTERNS_DIR (shared by everyone)
 * and custom patterns registered through the API (owned by one API key).
 */
export class PatternCatalog {
  private readonly shared = new Map<string, PatternDefinition>();

  constructor(
    loaded: readonly PatternDefinition[] = [],
    private readonly custom: CustomPatternStore = new MemoryPatternStore(),
    readonly limits: CatalogLimits = { maxPerOwner: 100 },
  ) {
    for (const pattern of BUILT_IN_PATTERNS) this.shared.set(pattern.name, pattern);
    for (const pattern of loaded) {
      if (this.shared.has(pattern.name)) {
        throw new Error(
          `Pattern "${pattern.name}" from PATTERNS_DIR clashes with a pattern of the same name.`,
        );
      }
      this.shared.set(pattern.name, pattern);
    }
  }

  async get(owner: string, name: string): Promise<PatternDefinition | undefined> {
    return this.shared.get(name) ?? (await this.custom.get(owner, name));
  }

  /** True when a cursor is one `page` returned. */
  static validCursor(cursor: string): boolean {
    return decodePosition(cursor) !== undefined;
  }

  /** One page: the shared patterns first (in catalog order), then the owner's own by name. */
  async page(owner: string, cursor: string | undefined, limit: number): Promise<PatternPage> {
    const position = cursor === undefined ? { shared: 0 } : (decodePosition(cursor) ?? { shared: 0 });
    const data: PatternDefinition[] = [];
    let after: string | undefined;
    if ('shared' in position) {
      const shared = [...this.shared.values()].slice(position.shared, position.shared + limit);
      data.push(...shared);
      const next = position.shared + shared.length;
      if (next < this.shared.size) return { data, nextCursor: encodePosition({ shared: next }) };
      // The page ends exactly with the last shared pattern: it goes on if the owner has any.
      if (data.length === limit) {
        const more = (await this.custom.count(owner)) > 0;
        return { data, nextCursor: more ? encodePosition({ shared: next }) : null };
      }
    } else {
      after = position.after;
    }
    const mine = await this.custom.page(owner, after, limit - data.length);
    data.push(...mine.patterns);
    const last = mine.patterns.at(-1);
    return { data, nextCursor: mine.more && last ? encodePosition({ after: last.name }) : null };
  }

  /** Registers a custom pattern, unless its name is taken or the owner has as many as allowed. */
  async register(owner: string, pattern: PatternDefinition): Promise<AddOutcome> {
    if (this.shared.has(pattern.name)) return 'exists';
    return this.custom.add(owner, pattern, this.limits.maxPerOwner);
  }

  /** True for a built-in or PATTERNS_DIR pattern: everyone's, changed by no one. */
  isShared(name: string): boolean {
    return this.shared.has(name);
  }

  /** Replaces the owner's own pattern of that name (the pattern's), if the owner has one. */
  async replace(owner: string, pattern: PatternDefinition): Promise<ChangeOutcome> {
    if (this.shared.has(pattern.name)) return 'shared';
    return (await this.custom.replace(owner, pattern)) ? 'done' : 'missing';
  }

  /** Removes the owner's own pattern of that name, if the owner has one. */
  async remove(owner: string, name: string): Promise<ChangeOutcome> {
    if (this.shared.has(name)) return 'shared';
    return (await this.custom.remove(owner, name)) ? 'done' : 'missing';
  }

  /** What a "pattern does not exist" answer says exists: every shared name and the first of the owner's. */
  async available(owner: string): Promise<string> {
    const [mine, total] = await Promise.all([
      this.custom.page(owner, undefined, NAMED_CUSTOM),
      this.custom.count(owner),
    ]);
    const names = [...this.shared.keys(), ...mine.patterns.map((pattern) => pattern.name)];
    const rest = total - mine.patterns.length;
    return rest > 0
      ? `${names.join(', ')} and ${rest} more of your own (GET /v1/patterns)`
      : names.join(', ');
  }
}
