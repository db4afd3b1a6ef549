/**
 * The request of one model call, built once: the cache and shared-call key
 * is derived from it, and every attempt hands this same object to the
 * adapter (only the signal differs per attempt, and it travels apart).
 */
import type { GenerateRequest } from '../providers/spec.js';
import type { ModelCall } from './call-model.js';
import type { RegisteredModel } from './registry.js';
import { keyFor } from './resilience/response-cache.js';

export interface CallRequest {
  request: GenerateRequest;
  /** Scoped to the API key that asked: caches and shared calls never cross owners. */
  key: string;
}

export function buildCallRequest(model: RegisteredModel, call: ModelCall): CallRequest {
  const request: GenerateRequest = Object.freeze({
    model: model.model,
    system: call.system,
    messages: Object.freeze([
      ...(call.history ?? []),
      Object.freeze({ role: 'user' as const, content: call.prompt }),
    ]),
    temperature: call.settings.temperature,
    maxTokens: call.settings.maxTokens,
  });
  return { request, key: keyFor(call.owner, model.id, request) };
}
