/**
 * A fake OpenAI Chat Completions upstream (also stands in for any
 * OpenAI-compatible server) on a real `node:http` socket.
 *
 *   const fake = await startFakeOpenAI({ text: 'Hello there', chunks: 3 });
 *   new OpenAI({ baseURL: fake.url, apiKey: 'k' })   // fake.url ends in /v1
 *   fake.enqueue({ type: 'error', status: 429, headers: { 'retry-after': '2' } });
 *   fake.calls[0].body / .headers                     // what the upstream received
 *   await fake.close();
 *
 * Endpoints: `POST /v1/chat/completions` (JSON, or SSE `data: {chunk}\n\n` …
 * `data: [DONE]\n\n` when `stream: true`; a role chunk first, one chunk per
 * text piece, a chunk with `finish_reason`, then — only when the request set
 * `stream_options.include_usage` and usage is not null — a usage chunk with
 * `choices: []`), and `GET /v1/models` (`{ object: 'list', data: [...] }`).
 * Every answer carries `x-request-id: req_fake_<index>`.
 * Errors default to `{ error: { message, type, code } }` with FAKE_BODY_MARKER
 * in the message. Scripting (queue, handler, faults, delays): see
 * fake-server.ts, whose names are re-exported here.
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

interface ChatBody {
  model?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
  messages?: { role?: unknown; content?: unknown }[];
}

const asBody = (body: unknown): ChatBody =>
  typeof body === 'object' && body !== null ? (body as ChatBody) : {};
const contentOf = (content: unknown): string => (typeof content === 'string' ? content : '');

const ERROR_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

const CREATED = 1_700_000_000;

export const openAIDialect: Dialect = {
  generationPath: '/v1/chat/completions',
  requestIdHeader: 'x-request-id',
  isStream: (body) => asBody(body).stream === true,
  model: (body) => String(asBody(body).model ?? ''),
  promptText: (body) => (asBody(body).messages ?? []).map((message) => contentOf(message.content)).join(' '),
  lastUserText: (body) => {
    const users = (asBody(body).messages ?? []).filter((message) => message.role === 'user');
    return contentOf(users.at(-1)?.content);
  },
  json: (plan: AnswerPlan) => ({
    id: `chatcmpl-fake-${plan.request.index}`,
    object: 'chat.completion',
    created: CREATED,
    model: plan.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: plan.text, refusal: null },
        logprobs: null,
        finish_reason: plan.finishReason ?? 'stop',
      },
    ],
    ...(plan.usage
      ? {
          usage: {
            prompt_tokens: plan.usage.inputTokens,
            completion_tokens: plan.usage.outputTokens,
            total_tokens: plan.usage.inputTokens + plan.usage.outputTokens,
          },
        }
      : {}),
  }),
  frames: (plan: AnswerPlan): Frame[] => {
    const includeUsage =
      asBody(plan.request.body).stream_options?.include_usage === true && plan.usage !== null;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({
        id: `chatcmpl-fake-${plan.request.index}`,
        object: 'chat.completion.chunk',
        created: CREATED,
        model: plan.model,
        choices,
        ...(includeUsage ? { usage: null } : {}),
        ...extra,
      })}\n\n`;
    const frames: Frame[] = [
      {
        data: chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
        content: false,
      },
    ];
    for (const piece of plan.pieces) {
      frames.push({
        data: chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]),
        content: true,
      });
    }
    frames.push({
      data: chunk([{ index: 0, delta: {}, finish_reason: plan.finishReason ?? 'stop' }]),
      content: false,
    });
    if (includeUsage && plan.usage) {
      const usage = {
        prompt_tokens: plan.usage.inputTokens,
        completion_tokens: plan.usage.outputTokens,
        total_tokens: plan.usage.inputTokens + plan.usage.outputTokens,
      };
      frames.push({ data: chunk([], { usage }), content: false });
    }
    frames.push({ data: 'data: [DONE]\n\n', content: false });
    return frames;
  },
  streamErrorFrame: (error) =>
    `data: ${JSON.stringify({
      error: error ?? {
        message: `${FAKE_BODY_MARKER}: the server had an error`,
        type: 'server_error',
        code: null,
      },
    })}\n\n`,
  malformedFrame: () => 'data: {"id": "chatcmpl-broken", "choices": [{"delta": \n\n',
  errorBody: (status) => ({
    error: {
      message: `${FAKE_BODY_MARKER}: upstream said ${status}`,
      type: ERROR_TYPES[status]?.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
      param: null,
      code: ERROR_TYPES[status]?.code ?? null,
    },
  }),
  modelsBody: (models) => ({
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'fake' })),
  }),
};

export function startFakeOpenAI(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  return startFakeUpstream(openAIDialect, { models: ['gpt-4.1-mini', 'gpt-4.1', 'o4-mini'], ...options });
}
