/**
 * `/anthropic/v1/messages`: Anthropic's Messages API over Chorus, in its own
 * scope with its own error handler (Anthropic's error shape). The key is
 * accepted as `x-api-key` as well as a bearer token.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { useChatErrors } from '../chat/error-handler.js';
import { answerStream, answerWhole, type ChatDeps } from '../chat/run-chat.js';
import { toAnalysisInput } from '../chat/to-analysis.js';
import { anthropicError } from './errors.js';
import { message, messageStream } from './message.js';
import { messagesBodySchema, PARAM_NAMES, readMessages } from './request.js';

export interface AnthropicSurfaceOptions extends ChatDeps {
  guard(scope: FastifyInstance): Promise<void>;
}

const errorSchema = z
  .object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) })
  .meta({ id: 'AnthropicError' });
const errors = Object.fromEntries([400, 401, 404, 429, 502, 503].map((status) => [status, errorSchema]));

export async function anthropicSurface(
  app: FastifyInstance,
  options: AnthropicSurfaceOptions,
): Promise<void> {
  useChatErrors(app, anthropicError);
  // Before authentication: Anthropic's clients send the key as x-api-key.
  app.addHook('onRequest', async (request) => {
    const key = request.headers['x-api-key'];
    if (request.headers.authorization === undefined && typeof key === 'string' && key.length > 0) {
      request.headers.authorization = `Bearer ${key}`;
    }
  });
  await options.guard(app);

  app.withTypeProvider<ZodTypeProvider>().post(
    '/messages',
    {
      schema: {
        tags: ['anthropic'],
        summary: 'Create a message (Anthropic-compatible)',
        description:
          'Runs the conversation as an analysis: `chorus/<pattern>` runs that pattern, a model id runs `direct`. With `thinking: { type: "enabled" }` the earlier stages come first as a thinking block. The header `chorus-analysis-id` names the analysis.',
        security: [{ bearerAuth: [] }],
        body: messagesBodySchema,
        response: { 200: z.unknown().describe('a message, or a text/event-stream of its events'), ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const input = await toAnalysisInput(options, request.owner, readMessages(body), PARAM_NAMES);
      const thinking = body.thinking?.type === 'enabled';
      if (body.stream === true)
        return answerStream(options, request, reply, input, messageStream(body.model, thinking));
      const record = await answerWhole(options, request, reply, input);
      if (!record) return;
      return message(record, body.model, thinking);
    },
  );
}
