/**
 * A fake Anthropic Messages upstream on a real `node:http` socket.
 *
 *   const fake = await startFakeAnthropic({ text: 'Hello there', chunks: 3 });
 *   new Anthropic({ baseURL: fake.origin, apiKey: 'k' })  // the SDK adds /v1 itself;
 *                                                         // Chorus's adapter also accepts fake.url (…/v1)
 *   fake.enqueue({ type: 'error', status: 529 });
 *   fake.calls[0].body / .headers   // the key arrives as `authorization: Bearer …` with
 *                                   // @anthropic-ai/sdk 1.x, as `x-api-key` with 0.x: both accepted
 *   await fake.close();
 *
 * Endpoints: `POST /v1/messages` (a JSON message, or with `stream: true` the
 * SSE sequence `message_start` (usage: input tokens, cache tokens and a
 * provisional output count), `ping`, `content_block_start`, one
 * `content_block_delta` per text piece, `content_block_stop`, `message_delta`
 * (stop_reason and the final, cumulative output_tokens), `message_stop`), and
 * `GET /v1/models`. Every answer carries `request-id: req_fake_<index>`.
 * Errors default to `{ type: 'error', error: { type, message } }` with
 * FAKE_BODY_MARKER in the message; 529 is `overloaded_error`. In-stream errors
 * are `event: error`. Extra options: `cacheReadInputTokens`,
 * `cacheCreationInputTokens`, `provisionalOutputTokens` (the output count on
 * message_start, default 1). Scripting: see fake-server.ts.
 */
import {
  type AnswerPlan,
  type Dialect,
  FAKE_BODY_MARKER,
  type FakeUpstream,
  type FakeUpstreamOptions,
  type Frame,
  startFakeUpstream,
} from './fake-server.js';

export * from './fake-server.js';

interface MessagesBody {
  model?: unknown;
  stream?: unknown;
  system?: unknown;
  messages?: { role?: unknown; content?: unknown }[];
}

export interface FakeAnthropicOptions extends FakeUpstreamOptions {
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  provisionalOutputTokens?: number;
}

const asBody = (body: unknown): MessagesBody =>
  typeof body === 'object' && body !== null ? (body as MessagesBody) : {};

function contentOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block: unknown) =>
        typeof block === 'object' && block !== null && 'text' in block ? String(block.text) : '',
      )
      .join(' ');
  }
  return '';
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export function createAnthropicDialect(options: FakeAnthropicOptions = {}): Dialect {
  const cacheRead = () => options.cacheReadInputTokens ?? 0;
  const cacheCreation = () => options.cacheCreationInputTokens ?? 0;
  return {
    generationPath: '/v1/messages',
    requestIdHeader: 'request-id',
    isStream: (body) => asBody(body).stream === true,
    model: (body) => String(asBody(body).model ?? ''),
    promptText: (body) =>
      [
        contentOf(asBody(body).system),
        ...(asBody(body).messages ?? []).map((m) => contentOf(m.content)),
      ].join(' '),
    lastUserText: (body) => {
      const users = (asBody(body).messages ?? []).filter((message) => message.role === 'user');
      return contentOf(users.at(-1)?.content);
    },
    json: (plan: AnswerPlan) => ({
      id: `msg_fake_${plan.request.index}`,
      type: 'message',
      role: 'assistant',
      model: plan.model,
      content: [{ type: 'text', text: plan.text }],
      stop_reason: plan.finishReason ?? 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: plan.usage?.inputTokens ?? 0,
        output_tokens: plan.usage?.outputTokens ?? 0,
        cache_creation_input_tokens: cacheCreation(),
        cache_read_input_tokens: cacheRead(),
      },
    }),
    frames: (plan: AnswerPlan): Frame[] => {
      const frames: Frame[] = [
        {
          data: event('message_start', {
            type: 'message_start',
            message: {
              id: `msg_fake_${plan.request.index}`,
              type: 'message',
              role: 'assistant',
              model: plan.model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: {
                input_tokens: plan.usage?.inputTokens ?? 0,
                output_tokens: options.provisionalOutputTokens ?? 1,
                cache_creation_input_tokens: cacheCreation(),
                cache_read_input_tokens: cacheRead(),
              },
            },
          }),
          content: false,
        },
        { data: event('ping', { type: 'ping' }), content: false },
        {
          data: event('content_block_start', {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'text', text: '' },
          }),
          content: false,
        },
      ];
      for (const piece of plan.pieces) {
        frames.push({
          data: event('content_block_delta', {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: piece },
          }),
          content: true,
        });
      }
      frames.push(
        { data: event('content_block_stop', { type: 'content_block_stop', index: 0 }), content: false },
        {
          data: event('message_delta', {
            type: 'message_delta',
            delta: { stop_reason: plan.finishReason ?? 'end_turn', stop_sequence: null },
            usage: { output_tokens: plan.usage?.outputTokens ?? 0 },
          }),
          content: false,
        },
        { data: event('message_stop', { type: 'message_stop' }), content: false },
      );
      return frames;
    },
    streamErrorFrame: (error) =>
      event('error', {
        type: 'error',
        error: error ?? { type: 'overloaded_error', message: `${FAKE_BODY_MARKER}: Overloaded` },
      }),
    malformedFrame: () => 'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": \n\n',
    errorBody: (status) => ({
      type: 'error',
      error: {
        type: ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
        message: `${FAKE_BODY_MARKER}: upstream said ${status}`,
      },
    }),
    modelsBody: (models) => ({
      data: models.map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-01-01T00:00:00Z',
      })),
      has_more: false,
      first_id: models[0] ?? null,
      last_id: models.at(-1) ?? null,
    }),
  };
}

export function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeUpstream> {
  // One object for both, so later changes through `fake.options` reach the dialect too.
  const merged: FakeAnthropicOptions = { models: ['claude-sonnet-4-5', 'claude-haiku-4-5'], ...options };
  return startFakeUpstream(createAnthropicDialect(merged), merged);
}
