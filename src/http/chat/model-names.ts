/**
 * The model names a chat client types: `chorus/<pattern>` runs that pattern,
 * a configured model id (`openai/gpt-4.1`) runs `direct` on that one model.
 */
import type { ModelRegistry } from '../../models/registry.js';
import type { PatternCatalog } from '../../orchestration/catalog.js';
import { ChatError } from './chat-error.js';

export const PATTERN_PREFIX = 'chorus/';

export interface ChatPanel {
  /** What the request's `chorus` field may choose: models, synthesis model, options. */
  models?: string[] | undefined;
  synthesisModel?: string | undefined;
}

export interface ResolvedModel {
  pattern: string;
  /** The one model of a `direct` run; undefined for a pattern (its defaults or the selector decide). */
  models?: string[] | undefined;
}

export interface ModelNames {
  catalog: PatternCatalog;
  registry: ModelRegistry;
}

export async function resolveModel(names: ModelNames, owner: string, model: string): Promise<ResolvedModel> {
  if (model.startsWith(PATTERN_PREFIX)) {
    const pattern = model.slice(PATTERN_PREFIX.length);
    if (await names.catalog.get(owner, pattern)) return { pattern };
  } else if (names.registry.get(model)) {
    return { pattern: 'direct', models: [model] };
  }
  throw new ChatError(
    'not_found',
    `The model "${model}" does not exist: use chorus/<pattern> or a configured model id (GET /models lists them).`,
    { param: 'model', code: 'model_not_found' },
  );
}

/** Every name a client may use: one `chorus/<pattern>` per pattern the owner can use, then every model id. */
export async function modelNames(names: ModelNames, owner: string): Promise<string[]> {
  const patterns: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await names.catalog.page(owner, cursor, 100);
    patterns.push(...page.data.map((pattern) => `${PATTERN_PREFIX}${pattern.name}`));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return [...patterns, ...names.registry.list().map((model) => model.id)];
}
