/** An analysis as Anthropic's `message`, whole or as its stream of events. */
import type { AnalysisRecord } from '../../analyses/record.js';
import { type AnswerPart, reasoningOf } from '../chat/answer-parts.js';
import type { StreamSurface } from '../chat/run-chat.js';

export function message(record: AnalysisRecord, model: string, thinking: boolean) {
  const reasoning = thinking ? reasoningOf(record) : '';
  return {
    id: record.id,
    type: 'message' as const,
    role: 'assistant' as const,
    model,
    content: [
      ...(reasoning ? [{ type: 'thinking' as const, thinking: reasoning, signature: '' }] : []),
      { type: 'text' as const, text: record.result?.text ?? '' },
    ],
    stop_reason: 'end_turn' as const,
    stop_sequence: null,
    usage: { input_tokens: record.usage.inputTokens, output_tokens: record.usage.outputTokens },
  };
}

const event = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * message_start, ping, then (with thinking) a thinking block of the earlier
 * stages, a text block of the answer, message_delta with the stop reason and
 * usage, message_stop.
 */
export function messageStream(model: string, thinking: boolean): StreamSurface {
  let index = -1;
  let open: 'thinking' | 'text' | undefined;
  const start = (kind: 'thinking' | 'text') => {
    let out = open ? event('content_block_stop', { index }) : '';
    index++;
    open = kind;
    const content_block =
      kind === 'thinking' ? { type: 'thinking', thinking: '', signature: '' } : { type: 'text', text: '' };
    out += event('content_block_start', { index, content_block });
    return out;
  };
  const text = (value: string) => {
    const head = open === 'text' ? '' : start('text');
    return `${head}${value ? event('content_block_delta', { index, delta: { type: 'text_delta', text: value } }) : ''}`;
  };
  return {
    reasoning: thinking,
    open(record) {
      return `${event('message_start', {
        message: {
          id: record.id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      })}${event('ping', {})}`;
    },
    part(part: AnswerPart) {
      switch (part.type) {
        case 'reasoning': {
          const head = open === 'thinking' ? '' : start('thinking');
          return `${head}${event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: part.text } })}`;
        }
        case 'content':
          return text(part.text);
        case 'done': {
          const { inputTokens, outputTokens } = part.record.usage;
          return `${text('')}${event('content_block_stop', { index })}${event('message_delta', {
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { input_tokens: inputTokens, output_tokens: outputTokens },
          })}${event('message_stop', {})}`;
        }
        case 'error':
          return event('error', { error: { type: 'api_error', message: `${part.message} [${part.code}]` } });
      }
    },
  };
}
