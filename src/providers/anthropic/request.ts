/** Turns a GenerateRequest into Messages API parameters. */
import type {
  MessageCreateParamsNonStreaming,
  MessageCreateParamsStreaming,
  MessageParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { AdapterModel } from '../shared/settings.js';
import type { GenerateRequest } from '../spec.js';

/** Used when neither the request nor the model's configuration gives an output limit. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;
export const ANTHROPIC_MAX_TEMPERATURE = 1;

interface CommonParams {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string;
  temperature?: number;
}

function buildCommon(request: GenerateRequest, model: AdapterModel): CommonParams {
  const params: CommonParams = {
    model: request.model,
    max_tokens: request.maxTokens ?? model.maxOutputTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
  };
  if (request.system) params.system = request.system;
  if (request.temperature !== undefined) {
    // The caller clamps and warns; this keeps a forgotten clamp from turning into a 400.
    params.temperature = Math.min(request.temperature, ANTHROPIC_MAX_TEMPERATURE);
  }
  return params;
}

export function buildGenerateParams(
  request: GenerateRequest,
  model: AdapterModel,
): MessageCreateParamsNonStreaming {
  return { ...buildCommon(request, model), stream: false };
}

export function buildStreamParams(
  request: GenerateRequest,
  model: AdapterModel,
): MessageCreateParamsStreaming {
  return { ...buildCommon(request, model), stream: true };
}
