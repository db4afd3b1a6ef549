/**
 * What the rest of Chorus sees of tracing: these types only. The
 * OpenTelemetry SDK behind them (`sdk.ts`) is loaded when an OTLP endpoint is
 * set; without one nothing here is built and a run pays one null check.
 */
import type { ModelCaller } from '../../models/call-model.js';
import type { AnalysisEventPayload } from '../events.js';
import type { AnalysisJob } from '../job.js';
import type { AnalysisRecord } from '../record.js';

/** W3C trace context as headers (`traceparent`, `tracestate`): what crosses processes. */
export type TraceCarrier = Record<string, string>;

/** What a model call's span says of the model, besides what its events carry. */
export interface ChatModelInfo {
  /** `gen_ai.provider.name`: the provider's name in the configuration. */
  provider: string;
  /** `gen_ai.request.model`: the provider's own model name. */
  model: string;
  temperature: number | undefined;
  maxTokens: number | undefined;
}

export interface AnalysisTraceInput {
  record: AnalysisRecord;
  job: AnalysisJob;
  describe(modelId: string): ChatModelInfo;
}

/** How a run ended, as its span records it. */
export interface AnalysisTraceEnd {
  status: 'succeeded' | 'failed' | 'cancelled' | 'handed-off' | 'interrupted';
  error?: { code: string; message: string } | undefined;
}

/** The spans of one run of one analysis, built from its events as the job log emits them. */
export interface AnalysisTrace {
  readonly onEvent: (event: AnalysisEventPayload) => void;
  /** The caller the run uses: each call carries its span's context upstream (`traceparent`). */
  wrap(caller: ModelCaller): ModelCaller;
  end(end: AnalysisTraceEnd): void;
}

/** The span of one HTTP request, continuing the caller's `traceparent`. */
export interface RequestTrace {
  /** This span's context, for the work the request starts (an analysis's job). */
  readonly carrier: TraceCarrier;
  end(statusCode: number): void;
}

export interface Tracing {
  startRequest(method: string, route: string, headers: Record<string, unknown>): RequestTrace;
  startAnalysis(input: AnalysisTraceInput): AnalysisTrace;
  /** Sends every ended span now. */
  flush(): Promise<void>;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}
