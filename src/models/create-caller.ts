import type { Logger } from './logger.js';
import type { ModelRegistry } from './registry.js';
import { type CallObserver, type ResilientCallerOptions, ResilientModelCaller } from './resilient-caller.js';

/** The model caller the service uses: cache, coalescing, retries, limits and breakers. */
export function createModelCaller(
  registry: ModelRegistry,
  logger: Logger,
  observer?: CallObserver,
  overrides: Partial<ResilientCallerOptions> = {},
): ResilientModelCaller {
  return new ResilientModelCaller({ registry, logger, observer, ...overrides });
}
