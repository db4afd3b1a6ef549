/**
 * The body of `POST /anthropic/v1/messages` as Chorus reads it: the fields
 * that map to an analysis, a `400` naming any parameter that would change the
 * answer's shape and is not supported, and every other parameter ignored.
 */
import { z } from 'zod';
import { ChatError } from '../chat/chat-error.js';
import { chorusFieldSchema } from '../chat/chorus-field.js';
import type { ChatInput, ChatTurn } from '../chat/to-analysis.js';

const block = z.object({ type: z.string(), text: z.string().optional() }).loose();
const content = z.union([z.string(), z.array(block)]);

export const messagesBodySchema = z
  .object({
    model: z.string().min(1).describe('chorus/<pattern>, or a configured model id (runs the direct pattern)'),
    max_tokens: z.number().int().min(1),
    messages: z.array(z.object({ role: z.string(), content }).loose()),
    system: content.optional(),
    temperature: z.number().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    stream: z.boolean().optional(),
    thinking: z.object({ type: z.string() }).loose().optional(),
    chorus: chorusFieldSchema.optional(),
  })
  .loose()
  .meta({ id: 'AnthropicMessagesRequest' });

export type MessagesBody = z.output<typeof messagesBodySchema>;

function textOf(value: z.output<typeof content>, param: string): string {
  if (typeof value === 'string') return value;
  return value
    .map((part, index) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw new ChatError(
          'invalid',
          `${param}.${index} is a "${part.type}" block: only text blocks are supported.`,
          {
            param: `${param}.${index}.type`,
          },
        );
      }
      return part.text;
    })
    .join('\n');
}

export function readMessages(body: MessagesBody): ChatInput {
  for (const name of ['tools', 'tool_choice', 'stop_sequences']) {
    const value = (body as Record<string, unknown>)[name];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      throw new ChatError('invalid', `${name} is not supported by Chorus: leave it out of the request.`, {
        param: name,
      });
    }
  }
  const messages = body.messages.map((message, index): ChatTurn => {
    if (message.role !== 'user' && message.role !== 'assistant') {
      throw new ChatError('invalid', `messages.${index}.role must be "user" or "assistant".`, {
        param: `messages.${index}.role`,
      });
    }
    return { role: message.role, content: textOf(message.content, `messages.${index}.content`) };
  });
  return {
    model: body.model,
    messages,
    ...(body.system !== undefined && { system: textOf(body.system, 'system') }),
    options: {
      maxTokens: body.max_tokens,
      ...(body.temperature !== undefined && { temperature: body.temperature }),
    },
    ...(body.metadata !== undefined && { metadata: body.metadata }),
    chorus: body.chorus,
  };
}

export const PARAM_NAMES = {
  temperature: 'temperature',
  maxTokens: 'max_tokens',
  system: 'system',
  metadata: 'metadata',
};
