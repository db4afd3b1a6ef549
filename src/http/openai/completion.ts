/** An analysis as OpenAI's `chat.completion` and `chat.completion.chunk` objects. */
import type { AnalysisRecord } from '../../analyses/record.js';
import type { AnswerPart } from '../chat/answer-parts.js';
import type { StreamSurface } from '../chat/run-chat.js';

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

function usageOf(record: AnalysisRecord) {
  const { inputTokens, outputTokens } = record.usage;
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
  };
}

export function chatCompletion(record: AnalysisRecord, model: string) {
  return {
    id: record.id,
    object: 'chat.completion' as const,
    created: seconds(record.createdAt),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: record.result?.text ?? '' },
        finish_reason: 'stop' as const,
        logprobs: null,
      },
    ],
    usage: usageOf(record),
    chorus: {
      analysisId: record.id,
      pattern: record.pattern,
      models: record.models,
      synthesisModel: record.synthesisModel,
      costUsd: record.usage.costUsd,
      links: record.links,
    },
  };
}

const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

/** The stream of chunks: a role chunk, the parts, a finish chunk, usage when asked, `[DONE]`. */
export function chunkStream(
  model: string,
  options: { includeUsage: boolean; reasoning: boolean },
): StreamSurface {
  let head = { id: '', created: 0 };
  const chunk = (delta: Record<string, string>, finishReason: string | null = null) =>
    data({
      ...head,
      object: 'chat.completion.chunk',
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    });
  return {
    reasoning: options.reasoning,
    open(record) {
      head = { id: record.id, created: seconds(record.createdAt) };
      return chunk({ role: 'assistant', content: '' });
    },
    part(part: AnswerPart) {
      switch (part.type) {
        case 'reasoning':
          return chunk({ reasoning_content: part.text });
        case 'content':
          return chunk({ content: part.text });
        case 'done': {
          const usage = options.includeUsage
            ? data({
                ...head,
                object: 'chat.completion.chunk',
                model,
                choices: [],
                usage: usageOf(part.record),
              })
            : '';
          return `${chunk({}, 'stop')}${usage}data: [DONE]\n\n`;
        }
        case 'error':
          return `${data({ error: { message: part.message, type: 'server_error', param: null, code: part.code } })}data: [DONE]\n\n`;
      }
    },
  };
}
