/** Types of the fake upstreams; how they behave is described in fake-server.ts. */

export const FAKE_BODY_MARKER = 'FAKE-UPSTREAM-RAW-BODY';

export interface RecordedRequest {
  /** 0-based order of arrival. */
  index: number;
  method: string;
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined (no body or not JSON). */
  body: unknown;
  rawBody: string;
}

export interface FakeUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface AnswerFields {
  /** The whole answer text (default: `FakeUpstreamOptions.text`, else the deterministic echo). */
  text?: string;
  /** How many text deltas a stream splits the text into (default `FakeUpstreamOptions.chunks`). */
  chunks?: number;
  chunkDelayMs?: number;
  /** Delay before the status line and headers. */
  latencyMs?: number;
  /** null: send no usage at all. Default: counted from the words of prompt and answer. */
  usage?: FakeUsage | null;
  /** Wire value (`stop`, `length`, `end_turn`, `max_tokens`, …). */
  finishReason?: string;
  headers?: Record<string, string>;
}

export type FakeReply =
  | ({ type: 'answer' } & AnswerFields)
  | { type: 'error'; status: number; body?: unknown; headers?: Record<string, string>; latencyMs?: number }
  | {
      type: 'raw';
      status?: number;
      headers?: Record<string, string>;
      body?: string;
      chunks?: string[];
      chunkDelayMs?: number;
      latencyMs?: number;
    }
  | { type: 'reset' }
  | ({ type: 'resetMidStream'; afterChunks: number } & AnswerFields)
  | ({ type: 'truncate'; afterChunks: number } & AnswerFields)
  | ({ type: 'streamError'; afterChunks: number; error?: unknown } & AnswerFields)
  | ({ type: 'malformed' } & AnswerFields)
  | { type: 'hang' };

export type FakeHandler = (request: RecordedRequest) => FakeReply | undefined;

export interface FakeUpstreamOptions {
  /** Answer text: fixed, or computed from the request. Default: `<model> answers: <first words of the prompt>`. */
  text?: string | ((request: RecordedRequest) => string);
  /** Text deltas per streamed answer (default 4; fewer when the text has fewer words). */
  chunks?: number;
  /** Delay between streamed events (default 0). */
  chunkDelayMs?: number;
  /** Delay before every answer's headers (default 0). */
  latencyMs?: number;
  /** Model ids listed by `GET /v1/models`. */
  models?: string[];
  handler?: FakeHandler;
}

/** One SSE frame; `content` marks the frames that carry answer text. */
export interface Frame {
  data: string;
  content: boolean;
}

export interface AnswerPlan {
  model: string;
  text: string;
  pieces: string[];
  usage: FakeUsage | null;
  finishReason: string | undefined;
  request: RecordedRequest;
}

/** What differs between the wire formats. */
export interface Dialect {
  generationPath: string;
  requestIdHeader: string;
  isStream(body: unknown): boolean;
  model(body: unknown): string;
  /** All prompt text (system and messages), for the default usage. */
  promptText(body: unknown): string;
  lastUserText(body: unknown): string;
  json(plan: AnswerPlan): unknown;
  /** Header frames, content frames (marked), terminal frames, in order. */
  frames(plan: AnswerPlan): Frame[];
  streamErrorFrame(error: unknown): string;
  malformedFrame(): string;
  errorBody(status: number): unknown;
  modelsBody(models: string[]): unknown;
}

export interface FakeUpstream {
  /** Base URL including `/v1`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>` without a path. */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** Requests to the generation endpoint only. */
  readonly calls: RecordedRequest[];
  /** Mutable defaults (text, chunks, delays, models, handler). */
  readonly options: FakeUpstreamOptions;
  readonly inFlight: number;
  readonly maxInFlight: number;
  enqueue(...replies: FakeReply[]): void;
  setHandler(handler: FakeHandler | undefined): void;
  /** The reply to `GET /models`; undefined restores the default list. */
  setModelsReply(reply: FakeReply | undefined): void;
  /** Resolves once at least `count` requests have arrived in total. */
  waitForRequests(count: number): Promise<void>;
  /** Forgets recorded requests, queued replies, handler and models reply. */
  reset(): void;
  close(): Promise<void>;
}
