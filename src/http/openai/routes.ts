/**
 * `/openai/v1`: OpenAI's Chat Completions API over Chorus, in its own scope
 * with its own error handler (OpenAI's error shape), so `/v1` keeps
 * problem+json. Requests become ordinary analyses (see chat/run-chat.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { useChatErrors } from '../chat/error-handler.js';
import { modelNames } from '../chat/model-names.js';
import { answerStream, answerWhole, type ChatDeps } from '../chat/run-chat.js';
import { toAnalysisInput } from '../chat/to-analysis.js';
import { chatCompletion, chunkStream } from './completion.js';
import { openAIError } from './errors.js';
import { chatCompletionBodySchema, paramNames, readChatCompletion } from './request.js';

export interface OpenAISurfaceOptions extends ChatDeps {
  /** Registers authentication and rate limits in the surface's scope. */
  guard(scope: FastifyInstance): Promise<void>;
}

const TAGS = ['openai'];
const security = [{ bearerAuth: [] }];
const errorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .meta({ id: 'OpenAIError' });
const errors = Object.fromEntries([400, 401, 404, 429, 502, 503].map((status) => [status, errorSchema]));

export async function openAISurface(app: FastifyInstance, options: OpenAISurfaceOptions): Promise<void> {
  useChatErrors(app, openAIError);
  await options.guard(app);
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/models',
    {
      schema: {
        tags: TAGS,
        summary: 'Model names a client can use',
        description: 'One chorus/<pattern> per pattern you can use, then every configured model id.',
        security,
        response: {
          200: z.object({
            object: z.literal('list'),
            data: z.array(
              z.object({
                id: z.string(),
                object: z.literal('model'),
                created: z.number(),
                owned_by: z.string(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const ids = await modelNames(options, request.owner);
      return {
        object: 'list' as const,
        data: ids.map((id) => ({ id, object: 'model' as const, created: 0, owned_by: 'chorus' })),
      };
    },
  );

  typed.post(
    '/chat/completions',
    {
      schema: {
        tags: TAGS,
        summary: 'Chat completion (OpenAI-compatible)',
        description:
          'Runs the conversation as an analysis: `chorus/<pattern>` runs that pattern, a model id runs `direct`. With `stream: true`, the last stage streams as `delta.content` and earlier stages as `delta.reasoning_content`. The header `chorus-analysis-id` names the analysis.',
        security,
        body: chatCompletionBodySchema,
        response: {
          200: z.unknown().describe('chat.completion, or a text/event-stream of chunks'),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const chat = readChatCompletion(body);
      const input = await toAnalysisInput(options, request.owner, chat, paramNames(body));
      if (body.stream === true) {
        const surface = chunkStream(body.model, {
          includeUsage: body.stream_options?.include_usage === true,
          reasoning: body.chorus?.reasoning !== false,
        });
        return answerStream(options, request, reply, input, surface);
      }
      const record = await answerWhole(options, request, reply, input);
      if (!record) return;
      return chatCompletion(record, body.model);
    },
  );
}
