/**
 * One Anthropic model as a LanguageModel over the Messages API: `generate`
 * (one JSON message) and `stream` (`messages.create({ stream: true })`, raw
 * server-sent events).
 */
import type Anthropic from '@anthropic-ai/sdk';
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
import type { CallOptions, GenerateRequest, GenerateResult, LanguageModel, StreamPart } from '../spec.js';
import { toAnthropicError } from './errors.js';
import { mapAnthropicStopReason } from './finish-reason.js';
import { ANTHROPIC_MAX_TEMPERATURE, buildGenerateParams, buildStreamParams } from './request.js';
import { messageSchema, StreamUsage, streamEventSchema, usageFromMessage } from './wire.js';

export interface AnthropicModelOptions {
  provider: string;
  model: AdapterModel;
  /** Undefined when the provider has no key: every call then fails with `auth_failed`. */
  client: Anthropic | undefined;
}

const KNOWN_EVENTS = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
]);

export function createAnthropicModel(options: AnthropicModelOptions): LanguageModel {
  const { provider, model, client } = options;
  return {
    ...modelIdentity(provider, model, {
      temperature: model.reasoning !== true,
      maxTemperature: ANTHROPIC_MAX_TEMPERATURE,
      requiresMaxTokens: true,
    }),

    generate(request: GenerateRequest, { signal, headers }: CallOptions = {}): Promise<GenerateResult> {
      const context = requestContext(provider, model.id, signal);
      return generateWith(toAnthropicError, context, async () => {
        const anthropic = requireClient(client, context);
        const { data, response } = await anthropic.messages
          .create(buildGenerateParams(request, model), { signal, headers })
          .withResponse();
        const parsed = messageSchema.safeParse(data);
        if (!parsed.success) throw malformedResponseError(context, parsed.error);
        const text = parsed.data.content
          .map((block) => (block.type === 'text' ? (block.text ?? '') : ''))
          .join('');
        return {
          text,
          usage: usageFromMessage(parsed.data.usage),
          finishReason: mapAnthropicStopReason(parsed.data.stop_reason),
          upstreamRequestId: upstreamRequestId(response.headers, 'request-id'),
        };
      });
    },

    stream(request: GenerateRequest, { signal, headers }: CallOptions = {}): AsyncIterable<StreamPart> {
      const context = requestContext(provider, model.id, signal);
      return streamWith(toAnthropicError, context, () => streamEvents(request, signal, headers, context));
    },
  };

  async function* streamEvents(
    request: GenerateRequest,
    signal: AbortSignal | undefined,
    headers: CallOptions['headers'],
    context: ErrorContext,
  ): AsyncGenerator<StreamPart> {
    const anthropic = requireClient(client, context);
    const { data: events, response } = await anthropic.messages
      .create(buildStreamParams(request, model), { signal, headers })
      .withResponse();
    const usage = new StreamUsage();
    let stopReason: string | null | undefined;
    let stopped = false;
    for await (const raw of events) {
      if (!KNOWN_EVENTS.has(raw.type)) continue;
      const parsed = streamEventSchema.safeParse(raw);
      if (!parsed.success) throw malformedResponseError(context, parsed.error);
      const event = parsed.data;
      const text =
        event.type === 'content_block_start' && event.content_block.type === 'text'
          ? event.content_block.text
          : event.type === 'content_block_delta' && event.delta.type === 'text_delta'
            ? event.delta.text
            : undefined;
      if (text) yield { type: 'text-delta', text };
      else if (event.type === 'message_start') usage.start(event.message.usage);
      else if (event.type === 'message_delta') {
        usage.delta(event.usage);
        stopReason = event.delta.stop_reason ?? stopReason;
      } else if (event.type === 'message_stop') stopped = true;
    }
    // The SDK ends the iteration quietly when the signal aborts mid-stream.
    if (signal?.aborted) throw toAnthropicError(signal.reason, context);
    if (!stopped || !usage.started) throw streamEndedEarlyError(context);
    yield {
      type: 'finish',
      usage: usage.toUsage(),
      finishReason: mapAnthropicStopReason(stopReason),
      upstreamRequestId: upstreamRequestId(response.headers, 'request-id'),
    };
  }
}
