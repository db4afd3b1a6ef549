/**
 * The body of `POST /openai/v1/chat/completions` as Chorus reads it: the
 * fields that map to an analysis, a `400` naming any parameter that would
 * change the answer's shape and is not supported, and every other parameter
 * ignored.
 */
import { z } from 'zod';
import { ChatError } from '../chat/chat-error.js';
import { chorusFieldSchema } from '../chat/chorus-field.js';
import type { ChatInput, ChatTurn } from '../chat/to-analysis.js';

const textPart = z.object({ type: z.string(), text: z.string().optional() }).loose();

const message = z
  .object({
    role: z.string().describe('system, developer, user or assistant'),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
  })
  .loose();

export const chatCompletionBodySchema = z
  .object({
    model: z.string().min(1).describe('chorus/<pattern>, or a configured model id (runs the direct pattern)'),
    messages: z.array(message),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
    max_tokens: z.number().nullable().optional(),
    max_completion_tokens: z.number().nullable().optional(),
    temperature: z.number().nullable().optional(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
    user: z.string().optional(),
    chorus: chorusFieldSchema.optional(),
  })
  .loose()
  .meta({ id: 'OpenAIChatCompletionRequest' });

export type ChatCompletionBody = z.output<typeof chatCompletionBodySchema>;

const ROLES: Record<string, ChatTurn['role']> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
};

/** Refuses what would change the answer's shape; answers the parameter's name. */
function unsupported(body: Record<string, unknown>): string | undefined {
  if (body.n !== undefined && body.n !== null && body.n !== 1) return 'n';
  for (const name of ['tools', 'tool_choice', 'functions', 'function_call', 'audio']) {
    if (body[name] !== undefined && body[name] !== null) return name;
  }
  const format = body.response_format as { type?: unknown } | null | undefined;
  if (format !== undefined && format !== null && format.type !== 'text') return 'response_format';
  if (body.logprobs === true) return 'logprobs';
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) return 'top_logprobs';
  const modalities = body.modalities;
  if (Array.isArray(modalities) && modalities.some((modality) => modality !== 'text')) return 'modalities';
  return undefined;
}

function turnOf(entry: z.output<typeof message>, index: number): ChatTurn {
  const role = ROLES[entry.role];
  if (!role) {
    throw new ChatError(
      'invalid',
      `messages[${index}].role "${entry.role}" is not supported: use system, developer, user or assistant (tool calls are not supported).`,
      { param: `messages.${index}.role` },
    );
  }
  const content = entry.content;
  if (typeof content === 'string') return { role, content };
  if (content === undefined || content === null) {
    throw new ChatError('invalid', `messages[${index}].content is required.`, {
      param: `messages.${index}.content`,
    });
  }
  const texts: string[] = [];
  content.forEach((part, position) => {
    if (part.type !== 'text' || typeof part.text !== 'string') {
      throw new ChatError(
        'invalid',
        `messages[${index}].content[${position}] is a "${part.type}" part: only text parts are supported.`,
        { param: `messages.${index}.content.${position}.type` },
      );
    }
    texts.push(part.text);
  });
  return { role, content: texts.join('\n') };
}

export function readChatCompletion(body: ChatCompletionBody): ChatInput {
  const refused = unsupported(body);
  if (refused) {
    throw new ChatError('invalid', `${refused} is not supported by Chorus: leave it out of the request.`, {
      param: refused,
    });
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const metadata = { ...body.metadata, ...(body.user !== undefined && { user: body.user }) };
  return {
    model: body.model,
    messages: body.messages.map(turnOf),
    options: {
      ...(body.temperature !== undefined && body.temperature !== null && { temperature: body.temperature }),
      ...(maxTokens !== undefined && { maxTokens }),
    },
    ...(Object.keys(metadata).length > 0 && { metadata }),
    chorus: body.chorus,
  };
}

/** Where the analysis's fields came from in this body, for error params. */
export function paramNames(body: ChatCompletionBody) {
  return {
    temperature: 'temperature',
    maxTokens: body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
    metadata: 'metadata',
  };
}
