import type { ModelRegistry } from '../models/registry.js';
import { type Selection, SelectionError, selectModels } from '../models/selector.js';
import { ServiceError } from './errors.js';

/** The models a request selects, or a 422 pointing at the model that is not configured. */
export function selectForRequest(
  registry: ModelRegistry,
  models?: string[],
  synthesisModel?: string,
): Selection {
  try {
    return selectModels(registry, models, synthesisModel);
  } catch (error) {
    if (error instanceof SelectionError) {
      throw new ServiceError('unprocessable', error.message, {
        errors: [{ path: error.pointer, message: error.message }],
      });
    }
    throw error;
  }
}
