import type { FastifyBaseLogger } from 'fastify';
import { DirectModelCaller, type ModelCaller } from './call-model.js';
import { type ModelHealth, NO_HEALTH } from './health.js';
import type { ModelRegistry } from './registry.js';

/** The model caller the service uses, with the health it reports. */
export function createModelCaller(
  registry: ModelRegistry,
  _logger: FastifyBaseLogger,
): { caller: ModelCaller; health: ModelHealth } {
  return { caller: new DirectModelCaller(registry), health: NO_HEALTH };
}
