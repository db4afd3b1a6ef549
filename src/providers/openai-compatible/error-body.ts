/**
 * OpenAI-compatible servers answer errors in many shapes — `{"error":"…"}`
 * (Ollama), `{"detail":…}` (FastAPI-based servers), `{"message":…,"type":…}`
 * (vLLM, Mistral), plain text. The OpenAI client only understands
 * `{"error":{"message","type","code"}}`, so this fetch wrapper rewrites error
 * bodies into that shape before the client reads them; the shared error
 * mapping can then recognise, say, a context-length failure. The rewritten
 * body never reaches a client: ProviderError messages leave bodies out.
 */

import { isRecord } from '../../util/is-record.js';
import { type FetchFunction, providerFetch } from '../shared/provider-fetch.js';

const MAX_MESSAGE_LENGTH = 2000;

interface NormalizedError {
  message: string;
  type?: string;
  code?: string;
}

export function normalizeErrorBody(text: string): { error: NormalizedError } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, MAX_MESSAGE_LENGTH) } };
  }
  if (!isRecord(body)) return { error: { message: describe(body) } };
  const nested = body.error;
  if (isRecord(nested)) return { error: pick(nested) };
  if (typeof nested === 'string')
    return { error: { ...pick(body), message: nested.slice(0, MAX_MESSAGE_LENGTH) } };
  if (body.detail !== undefined) return { error: { ...pick(body), message: describe(body.detail) } };
  return { error: pick(body) };
}

function pick(source: Record<string, unknown>): NormalizedError {
  const normalized: NormalizedError = { message: describe(source.message ?? source.msg ?? '') };
  if (typeof source.type === 'string') normalized.type = source.type;
  if (typeof source.code === 'string') normalized.code = source.code;
  else if (typeof source.code === 'number') normalized.code = String(source.code);
  return normalized;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.slice(0, MAX_MESSAGE_LENGTH);
  try {
    return (JSON.stringify(value) ?? '').slice(0, MAX_MESSAGE_LENGTH);
  } catch {
    return '';
  }
}

/** Wraps `fetch` so every non-2xx answer carries an OpenAI-shaped JSON error body. */
export function withNormalizedErrorBodies(base?: FetchFunction): FetchFunction {
  return async (input, init) => {
    const response = await (base ?? providerFetch)(input, init);
    if (response.ok) return response;
    const text = await response.text();
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(normalizeErrorBody(text)), {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}
