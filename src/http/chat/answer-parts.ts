/**
 * An analysis's events as a chat answer, for the surfaces that stream one:
 * the last stage's text live as content, every finished response of the
 * earlier stages as a reasoning block, then the end. The content sent adds
 * up to exactly the record's `result.text`: text is held back where a retry
 * or a failover sends something else, and the rest goes out at the end; if
 * what was already sent cannot be part of the result, the answer ends with
 * an error instead.
 */
import type { AnalysisEventPayload } from '../../analyses/events.js';
import type { AnalysisRecord } from '../../analyses/record.js';

export type AnswerPart =
  | { type: 'reasoning'; text: string }
  | { type: 'content'; text: string }
  | { type: 'done'; record: AnalysisRecord }
  | { type: 'error'; code: string; message: string };

/** One finished response of an earlier stage, as the reader's thinking shows it. */
export function reasoningBlock(stage: string, model: string, text: string): string {
  return `**${stage} · ${model}**\n\n${text}\n\n`;
}

/** The reasoning of a finished analysis: every response of every stage before the last, in order. */
export function reasoningOf(record: AnalysisRecord): string {
  return record.stages
    .slice(0, -1)
    .flatMap((stage) =>
      stage.responses
        .filter((response) => response.status === 'succeeded' && response.text !== null)
        .map((response) => reasoningBlock(stage.name, response.model, response.text!)),
    )
    .join('');
}

export class AnswerParts {
  /** Content already handed out. */
  private sent = '';
  /** The text of the final stage's current attempt. */
  private attempt = '';
  private readonly lastStage: string | undefined;
  /** The final stage streams live only when one model runs it at a time. */
  private readonly live: boolean;
  ended = false;

  constructor(
    accepted: AnalysisRecord,
    private readonly options: { reasoning: boolean },
  ) {
    const last = accepted.stages.at(-1);
    this.lastStage = last?.name;
    this.live = last?.mode === 'one';
  }

  push(event: AnalysisEventPayload): AnswerPart[] {
    if (this.ended) return [];
    switch (event.type) {
      case 'model.started':
        if (event.data.stage === this.lastStage) this.attempt = '';
        return [];
      case 'model.delta':
        return event.data.stage === this.lastStage && this.live ? this.delta(event.data.text) : [];
      case 'model.completed':
        if (event.data.stage === this.lastStage || !this.options.reasoning) return [];
        return [
          {
            type: 'reasoning',
            text: reasoningBlock(event.data.stage, event.data.model, event.data.text),
          },
        ];
      case 'analysis.completed':
        return this.end(event.data);
      case 'analysis.failed':
        this.ended = true;
        return [{ type: 'error', code: event.data.error.code, message: event.data.error.message }];
      case 'analysis.cancelled':
        this.ended = true;
        return [{ type: 'error', code: 'cancelled', message: 'The analysis was cancelled.' }];
      default:
        return [];
    }
  }

  /** Sends what of the current attempt goes past what was sent, while the attempt agrees with it. */
  private delta(text: string): AnswerPart[] {
    this.attempt += text;
    if (this.attempt.length <= this.sent.length || !this.attempt.startsWith(this.sent)) return [];
    const more = this.attempt.slice(this.sent.length);
    this.sent = this.attempt;
    return [{ type: 'content', text: more }];
  }

  private end(record: AnalysisRecord): AnswerPart[] {
    this.ended = true;
    const text = record.result?.text ?? '';
    if (!text.startsWith(this.sent)) {
      return [
        {
          type: 'error',
          code: 'upstream_error',
          message:
            'The final stage failed over to another model after part of its answer was sent: the streamed text is not the answer. Ask again, or read the analysis (chorus-analysis-id).',
        },
      ];
    }
    const rest = text.slice(this.sent.length);
    this.sent = text;
    return [...(rest ? [{ type: 'content' as const, text: rest }] : []), { type: 'done', record }];
  }
}
