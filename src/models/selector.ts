import { byWeight, type ModelRegistry, type RegisteredModel } from './registry.js';

export const DEFAULT_MODEL_COUNT = 3;

export class SelectionError extends Error {
  override readonly name = 'SelectionError';
  constructor(
    message: string,
    readonly pointer: string,
    readonly known: string[],
  ) {
    super(message);
  }
}

export interface Selection {
  models: string[];
  synthesisModel: string;
}

/**
 * Chooses the models of an analysis. Named models must be configured (else a
 * SelectionError naming the models that exist); availability only steers the
 * default choice and never refuses a configured model.
 */
export function selectModels(registry: ModelRegistry, requested?: string[], synthesis?: string): Selection {
  const known = registry.list().map((model) => model.id);
  const unknownMessage = (id: string) =>
    `Model "${id}" is not configured. Configured models: ${known.join(', ') || '(none)'}.`;
  let chosen: RegisteredModel[];
  if (requested && requested.length > 0) {
    chosen = requested.map((id, index) => {
      const model = registry.get(id);
      if (!model) throw new SelectionError(unknownMessage(id), `/models/${index}`, known);
      return model;
    });
  } else {
    const available = registry.list().filter((model) => registry.isAvailable(model.id));
    chosen = (available.length > 0 ? available : registry.list()).slice(0, DEFAULT_MODEL_COUNT);
  }
  if (synthesis !== undefined && !registry.get(synthesis)) {
    throw new SelectionError(unknownMessage(synthesis), '/synthesisModel', known);
  }
  const ranked = [...chosen].sort(byWeight);
  const synthesisModel =
    synthesis ?? (ranked.find((model) => registry.isAvailable(model.id)) ?? ranked[0])?.id ?? known[0] ?? '';
  return { models: chosen.map((model) => model.id), synthesisModel };
}

/** The order a single-model stage tries: the synthesis model, then the others by weight. */
export function fallbackOrder(registry: ModelRegistry, selection: Selection): string[] {
  const others = selection.models
    .filter((id) => id !== selection.synthesisModel)
    .map((id) => registry.get(id)!)
    .sort(byWeight)
    .map((model) => model.id);
  return [selection.synthesisModel, ...others];
}
