/** Turns a GenerateRequest into Chat Completions parameters. */
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { GenerateRequest } from '../spec.js';

export interface ModelSettings {
  /** Reasoning models take no temperature. */
  reasoning: boolean;
  /** Which field carries the output limit. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Ask for a final usage chunk in streams (`stream_options.include_usage`). */
  includeUsageInStream: boolean;
}

const REASONING_MODEL = /^(o\d|gpt-5)/;

/** OpenAI's reasoning models: o1, o3, o4-mini, gpt-5…, unless the configuration says otherwise. */
export function isReasoningModel(model: string, configured: boolean | undefined): boolean {
  return configured ?? REASONING_MODEL.test(model);
}

export function buildMessages(request: GenerateRequest): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const message of request.messages) messages.push({ role: message.role, content: message.content });
  return messages;
}

interface CommonParams {
  model: string;
  messages: ChatCompletionMessageParam[];
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

function buildCommon(request: GenerateRequest, settings: ModelSettings): CommonParams {
  const params: CommonParams = { model: request.model, messages: buildMessages(request) };
  if (request.temperature !== undefined && !settings.reasoning) params.temperature = request.temperature;
  if (request.maxTokens !== undefined) params[settings.maxTokensField] = request.maxTokens;
  return params;
}

export function buildGenerateParams(
  request: GenerateRequest,
  settings: ModelSettings,
): ChatCompletionCreateParamsNonStreaming {
  return { ...buildCommon(request, settings), stream: false };
}

export function buildStreamParams(
  request: GenerateRequest,
  settings: ModelSettings,
): ChatCompletionCreateParamsStreaming {
  const params: ChatCompletionCreateParamsStreaming = { ...buildCommon(request, settings), stream: true };
  if (settings.includeUsageInStream) params.stream_options = { include_usage: true };
  return params;
}
