import { BUILT_IN_PATTERNS } from './patterns/index.js';
import type { PatternDefinition } from './patterns/types.js';

/**
 * Built-in patterns, patterns loaded from PATTERNS_DIR (shared by everyone)
 * and custom patterns registered through the API (owned by one API key).
 */
export class PatternCatalog {
  private readonly shared = new Map<string, PatternDefinition>();
  private readonly custom = new Map<string, Map<string, PatternDefinition>>();

  constructor(loaded: readonly PatternDefinition[] = []) {
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

  get(owner: string, name: string): PatternDefinition | undefined {
    return this.shared.get(name) ?? this.custom.get(owner)?.get(name);
  }

  list(owner: string): PatternDefinition[] {
    return [...this.shared.values(), ...(this.custom.get(owner)?.values() ?? [])];
  }

  /** Registers a custom pattern; false when the name is taken (for this owner). */
  register(owner: string, pattern: PatternDefinition): boolean {
    if (this.get(owner, pattern.name)) return false;
    let mine = this.custom.get(owner);
    if (!mine) {
      mine = new Map();
      this.custom.set(owner, mine);
    }
    mine.set(pattern.name, pattern);
    return true;
  }

  isBuiltIn(name: string): boolean {
    return this.shared.has(name);
  }
}
