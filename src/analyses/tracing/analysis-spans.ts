/**
 * The spans of one run, read from its events: `analysis <pattern>` → `stage
 * <name>` → `chat <model>` with the OpenTelemetry GenAI attributes. The engine
 * knows nothing of them; the only thing passed down is each call's context,
 * as a `traceparent` header for its upstream requests.
 */
import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ModelCaller } from '../../models/call-model.js';
import type { AnalysisEventPayload } from '../events.js';
import type {
  AnalysisTrace,
  AnalysisTraceEnd,
  AnalysisTraceInput,
  ChatModelInfo,
  TraceCarrier,
} from './tracing.js';

export interface SpanTools {
  tracer: Tracer;
  captureContent: boolean;
  /** The context a carrier continues (an empty carrier: a new trace). */
  extract(carrier: TraceCarrier | undefined): Context;
  inject(context: Context): TraceCarrier;
}

type ChatSpan = { span: Span; context: Context; info: ChatModelInfo };

export class AnalysisSpans implements AnalysisTrace {
  readonly #tools: SpanTools;
  readonly #describe: (modelId: string) => ChatModelInfo;
  readonly #analysis: Span;
  readonly #context: Context;
  #stage: { name: string; span: Span; context: Context } | undefined;
  readonly #chats = new Map<string, ChatSpan>();
  #ended = false;

  constructor(tools: SpanTools, input: AnalysisTraceInput) {
    this.#tools = tools;
    this.#describe = input.describe;
    const { record, job } = input;
    this.#analysis = tools.tracer.startSpan(
      `analysis ${record.pattern}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'chorus.analysis.id': record.id,
          'chorus.pattern': record.pattern,
          'chorus.models': [...record.models],
          'chorus.synthesis_model': record.synthesisModel,
        },
      },
      tools.extract(job.trace),
    );
    this.#context = trace.setSpan(tools.extract(undefined), this.#analysis);
  }

  readonly onEvent = (event: AnalysisEventPayload): void => {
    switch (event.type) {
      case 'analysis.resumed':
        this.#analysis.addEvent('resumed', { 'chorus.from_stage': event.data.fromStage });
        return;
      case 'stage.started': {
        this.#endStage();
        const { stage, index, models } = event.data;
        const span = this.#tools.tracer.startSpan(
          `stage ${stage}`,
          {
            attributes: { 'chorus.stage.name': stage, 'chorus.stage.index': index, 'chorus.models': models },
          },
          this.#context,
        );
        this.#stage = { name: stage, span, context: trace.setSpan(this.#context, span) };
        return;
      }
      case 'model.failed': {
        const { model, error, willRetry, attempt } = event.data;
        const chat = this.#chat(model);
        if (willRetry) {
          chat.span.addEvent('retry', { 'chorus.attempt': attempt, 'error.type': error.code });
          return;
        }
        chat.span.setAttributes({ 'error.type': error.code, 'chorus.attempts': attempt });
        chat.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        this.#endChat(model);
        return;
      }
      case 'model.completed': {
        const { model, usage, cached, attempts, costUsd, text } = event.data;
        const chat = this.#chat(model);
        const attributes: Attributes = {
          'gen_ai.usage.input_tokens': usage.inputTokens,
          'gen_ai.usage.output_tokens': usage.outputTokens,
          'chorus.cached': cached,
          'chorus.attempts': attempts,
          'chorus.cost_usd': costUsd,
        };
        if (this.#tools.captureContent) {
          attributes['gen_ai.output.messages'] = JSON.stringify([
            { role: 'assistant', parts: [{ type: 'text', content: text }] },
          ]);
        }
        chat.span.setAttributes(attributes);
        this.#endChat(model);
        return;
      }
      case 'stage.completed': {
        const stage = this.#stage;
        if (!stage || stage.name !== event.data.stage) return;
        const { status, succeeded, failed, reason } = event.data;
        stage.span.setAttributes({
          'chorus.stage.status': status,
          'chorus.stage.succeeded': succeeded,
          'chorus.stage.failed': failed,
        });
        if (status === 'failed') stage.span.setStatus({ code: SpanStatusCode.ERROR, message: reason ?? '' });
        this.#endStage();
        return;
      }
      default:
        return;
    }
  };

  wrap(caller: ModelCaller): ModelCaller {
    return {
      call: async (call) => {
        const chat = this.#chat(call.modelId);
        if (this.#tools.captureContent) {
          if (call.system !== undefined) {
            chat.span.setAttribute(
              'gen_ai.system_instructions',
              JSON.stringify([{ type: 'text', content: call.system }]),
            );
          }
          chat.span.setAttribute(
            'gen_ai.input.messages',
            JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: call.prompt }] }]),
          );
        }
        const upstreamHeaders = { ...call.upstreamHeaders, ...this.#tools.inject(chat.context) };
        const outcome = await caller.call({ ...call, upstreamHeaders });
        if (outcome.ok && outcome.finishReason !== undefined) {
          chat.span.setAttribute('gen_ai.response.finish_reasons', [outcome.finishReason]);
        }
        return outcome;
      },
    };
  }

  end({ status, error }: AnalysisTraceEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    // A cancelled or handed-off run leaves calls open: they end with it.
    for (const chat of this.#chats.values()) chat.span.end();
    this.#chats.clear();
    this.#endStage();
    this.#analysis.setAttribute('chorus.status', status);
    if (error) {
      this.#analysis.setAttribute('error.type', error.code);
      this.#analysis.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    this.#analysis.end();
  }

  /** The open span of a model's call in the current stage, started on first sight. */
  #chat(modelId: string): ChatSpan {
    const key = `${this.#stage?.name ?? ''}\0${modelId}`;
    const open = this.#chats.get(key);
    if (open) return open;
    const info = this.#describe(modelId);
    const attributes: Attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': info.provider,
      'gen_ai.request.model': info.model,
      'chorus.model': modelId,
    };
    if (info.temperature !== undefined) attributes['gen_ai.request.temperature'] = info.temperature;
    if (info.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = info.maxTokens;
    const span = this.#tools.tracer.startSpan(
      `chat ${modelId}`,
      { kind: SpanKind.CLIENT, attributes },
      this.#stage?.context ?? this.#context,
    );
    const chat = { span, context: trace.setSpan(this.#context, span), info };
    this.#chats.set(key, chat);
    return chat;
  }

  #endChat(modelId: string): void {
    const key = `${this.#stage?.name ?? ''}\0${modelId}`;
    this.#chats.get(key)?.span.end();
    this.#chats.delete(key);
  }

  #endStage(): void {
    this.#stage?.span.end();
    this.#stage = undefined;
  }
}

/** Injects with the given propagator into a fresh carrier. */
export function injectInto(propagator: TextMapPropagator, context: Context): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagator.inject(context, carrier, {
    set: (target, key, value) => {
      target[key] = value;
    },
  });
  return carrier;
}
