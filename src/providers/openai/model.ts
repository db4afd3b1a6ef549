/**
 * One Chat Completions model as a LanguageModel: `generate` (one JSON answer)
 * and `stream` (SSE chunks, with a final usage chunk when the server sends
 * one; otherwise usage is estimated).
 */
import type OpenAI from 'openai';
import { generateWith, streamWith } from '../shared/adapter-calls.js';
import {
  type ErrorContext,
  malformedResponseError,
  requestContext,
  requireClient,
  streamEndedEarlyError,
} from '../shared/http-errors.js';
import { modelIdentity } from '../shared/model-identity.js';
import type { AdapterModel } from '../shared/settings.js';
import { upstreamRequestId } from '../shared/upstream-request-id.js';
import type {
  CallOptions,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  StreamPart,
  Usage,
} from '../spec.js';
import { toOpenAIError } from './errors.js';
import { mapOpenAIFinishReason } from './finish-reason.js';
import { buildGenerateParams, buildStreamParams, type ModelSettings } from './request.js';
import { estimateUsage } from './usage.js';
import {
  type ChatCompletionChunk,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  readChunk,
  type WireUsage,
} from './wire.js';

export interface OpenAIModelOptions {
  provider: string;
  model: AdapterModel;
  settings: ModelSettings;
  /** Undefined when the provider has no key: every call then fails with `auth_failed`. */
  client: OpenAI | undefined;
}

export function createOpenAIModel(options: OpenAIModelOptions): LanguageModel {
  const { provider, model, settings, client } = options;
  return {
    ...modelIdentity(provider, model, {
      temperature: !settings.reasoning,
      maxTemperature: 2,
      requiresMaxTokens: false,
    }),

    generate(request: GenerateRequest, { signal, headers }: CallOptions = {}): Promise<GenerateResult> {
      const context = requestContext(provider, model.id, signal);
      return generateWith(toOpenAIError, context, async () => {
        const openai = requireClient(client, context);
        const { data, response } = await openai.chat.completions
          .create(buildGenerateParams(request, settings), { signal, headers })
          .withResponse();
        const parsed = chatCompletionSchema.safeParse(data);
        if (!parsed.success) throw malformedResponseError(context, parsed.error);
        const choice = parsed.data.choices[0]!;
        const text = choice.message.content ?? '';
        return {
          text,
          usage: toUsage(parsed.data.usage, request, text),
          finishReason: mapOpenAIFinishReason(choice.finish_reason),
          upstreamRequestId: upstreamRequestId(response.headers, 'x-request-id'),
        };
      });
    },

    stream(request: GenerateRequest, { signal, headers }: CallOptions = {}): AsyncIterable<StreamPart> {
      const context = requestContext(provider, model.id, signal);
      return streamWith(toOpenAIError, context, () => streamChunks(request, signal, headers, context));
    },
  };

  async function* streamChunks(
    request: GenerateRequest,
    signal: AbortSignal | undefined,
    headers: CallOptions['headers'],
    context: ErrorContext,
  ): AsyncGenerator<StreamPart> {
    const openai = requireClient(client, context);
    const { data: chunks, response } = await openai.chat.completions
      .create(buildStreamParams(request, settings), { signal, headers })
      .withResponse();
    let text = '';
    let finishReason: string | undefined;
    let usage: WireUsage | null | undefined;
    for await (const chunk of chunks) {
      const parsed = readChunk(chunk) ?? malformedChunk(chunk, context);
      if (parsed.usage) usage = parsed.usage;
      const choice = parsed.choices?.[0];
      const delta = choice?.delta?.content;
      if (delta) {
        text += delta;
        yield { type: 'text-delta', text: delta };
      }
      if (choice?.finish_reason) finishReason = choice.finish_reason;
    }
    // The SDK ends the iteration quietly when the signal aborts mid-stream.
    if (signal?.aborted) throw toOpenAIError(signal.reason, context);
    if (finishReason === undefined) throw streamEndedEarlyError(context);
    yield {
      type: 'finish',
      usage: toUsage(usage, request, text),
      finishReason: mapOpenAIFinishReason(finishReason),
      upstreamRequestId: upstreamRequestId(response.headers, 'x-request-id'),
    };
  }
}

/** A chunk that failed the quick check: the schema says what is wrong with it. */
function malformedChunk(chunk: unknown, context: ErrorContext): ChatCompletionChunk {
  const parsed = chatCompletionChunkSchema.safeParse(chunk);
  if (parsed.success) return parsed.data;
  throw malformedResponseError(context, parsed.error);
}

function toUsage(usage: WireUsage | null | undefined, request: GenerateRequest, text: string): Usage {
  if (!usage) return estimateUsage(request, text);
  return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
}
