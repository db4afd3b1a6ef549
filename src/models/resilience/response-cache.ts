/**
 * A bounded, time-limited cache of complete, successful model answers.
 *
 * Keys are scoped to the API key that asked (the owner), so one key never sees
 * another key's answers. Only a result that finished normally is stored; an
 * error, a cancelled or partial stream never reaches `set` as a GenerateResult,
 * and a result whose finish reason says it broke off is refused.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChatMessage, GenerateResult, Usage } from '../../providers/spec.js';

/** The parts of a request that decide the answer (the signal and the adapter's model name are left out). */
export interface CacheableRequest {
  system?: string | undefined;
  messages: readonly ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

/** What the cache keeps: text, usage and finish reason, never the upstream request id of the first call. */
export interface CachedResponse {
  readonly text: string;
  readonly usage: Readonly<Usage>;
  readonly finishReason: string | undefined;
}

export interface ResponseCacheOptions {
  /** Most entries kept; the least recently used one is dropped first. */
  maxEntries: number;
  /** How long an entry lives, in milliseconds. */
  ttlMs: number;
  /** A clock in milliseconds (tests inject one); `performance.now` by default. */
  now?: () => number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  size: number;
}

/** Finish reasons that mean the answer broke off and must not be replayed. */
const INCOMPLETE_FINISH_REASONS: ReadonlySet<string> = new Set([
  'error',
  'cancelled',
  'canceled',
  'aborted',
  'incomplete',
]);

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** JSON with object keys sorted and `undefined` members left out, so equal requests give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : normalize(item)));
  if (typeof value === 'object') {
    const result: { [key: string]: Json } = {};
    for (const key of Object.keys(value).sort()) {
      const member: unknown = (value as Record<string, unknown>)[key];
      if (member !== undefined && typeof member !== 'function') result[key] = normalize(member);
    }
    return result;
  }
  return null;
}

/**
 * The cache (and coalescing) key: sha256 of the owner, the model id and the
 * whole request (system, messages, temperature, maxTokens), serialized as one
 * fixed-order JSON array — equal requests give equal text with no key sorting,
 * on a path every model call takes.
 */
export function keyFor(owner: string, modelId: string, request: CacheableRequest): string {
  const messages = request.messages.map((message) => [message.role, message.content]);
  const material = JSON.stringify([
    1,
    owner,
    modelId,
    request.system ?? null,
    messages,
    request.temperature ?? null,
    request.maxTokens ?? null,
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** True when a result is whole and worth replaying. */
export function isCompleteResult(result: GenerateResult): boolean {
  if (typeof result.text !== 'string') return false;
  const { inputTokens, outputTokens } = result.usage;
  if (!Number.isFinite(inputTokens) || !Number.isFinite(outputTokens)) return false;
  const reason = result.finishReason?.toLowerCase();
  return reason === undefined || !INCOMPLETE_FINISH_REASONS.has(reason);
}

export class ResponseCache {
  readonly #entries: LRUCache<string, CachedResponse>;
  #hits = 0;
  #misses = 0;

  constructor(options: ResponseCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError('ResponseCache: maxEntries must be a positive integer.');
    }
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) {
      throw new RangeError('ResponseCache: ttlMs must be a positive number of milliseconds.');
    }
    const now = options.now;
    this.#entries = new LRUCache<string, CachedResponse>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      // Exact expiry (no cached clock reading, no timer to reset it).
      ttlResolution: 0,
      ...(now ? { perf: { now } } : {}),
    });
  }

  /** The stored answer for a key, counting a hit or a miss. */
  get(key: string): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#misses += 1;
    else this.#hits += 1;
    return entry;
  }

  /** Looks without counting and without refreshing recency. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * Stores a complete, successful result (text, usage, finish reason only).
   * Returns false, storing nothing, when the result broke off.
   */
  set(key: string, result: GenerateResult): boolean {
    if (!isCompleteResult(result)) return false;
    const entry: CachedResponse = Object.freeze({
      text: result.text,
      usage: Object.freeze({
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
      }),
      finishReason: result.finishReason,
    });
    this.#entries.set(key, entry);
    return true;
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  stats(): ResponseCacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }
}
