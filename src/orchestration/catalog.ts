import { BUILT_IN_PATTERNS } from './patterns/index.js';
import type { PatternDefinition } from './patterns/types.js';

/** Where custom patterns are kept: memory by default, Redis with STORE=redis. */
export interface CustomPatternStore {
  get(owner: string, name: string): Promise<PatternDefinition | undefined>;
  list(owner: string): Promise<PatternDefinition[]>;
  /** False when the owner already has a pattern of that name. */
  add(owner: string, pattern: PatternDefinition): Promise<boolean>;
}

export class MemoryPatternStore implements CustomPatternStore {
  private readonly patterns = new Map<string, Map<string, PatternDefinition>>();

  async get(owner: string, name: string) {
    return this.patterns.get(owner)?.get(name);
  }

  async list(owner: string) {
    return [...(this.patterns.get(owner)?.values() ?? [])];
  }

  async add(owner: string, pattern: PatternDefinition) {
    let mine = this.patterns.get(owner);
    if (!mine) {
      mine = new Map();
      this.patterns.set(owner, mine);
    }
    if (mine.has(pattern.name)) return false;
    mine.set(pattern.name, pattern);
    return true;
  }
}

/**
 * Built-in patterns, patterns loaded from PATTERNS_DIR (shared by everyone)
 * and custom patterns registered through the API (owned by one API key).
 */
export class PatternCatalog {
  private readonly shared = new Map<string, PatternDefinition>();

  constructor(
    loaded: readonly PatternDefinition[] = [],
    private readonly custom: CustomPatternStore = new MemoryPatternStore(),
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

  async list(owner: string): Promise<PatternDefinition[]> {
    return [...this.shared.values(), ...(await this.custom.list(owner))];
  }

  /** Registers a custom pattern; false when the name is taken (shared, or the owner's own). */
  async register(owner: string, pattern: PatternDefinition): Promise<boolean> {
    if (this.shared.has(pattern.name)) return false;
    return this.custom.add(owner, pattern);
  }
}
