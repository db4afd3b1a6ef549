/** Chat errors in OpenAI's shape and status codes: `{ error: { message, type, param, code } }`. */
import type { ChatError, ChatErrorKind } from '../chat/chat-error.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const SHAPES: Record<ChatErrorKind, { status: number; type: string; code: string | null }> = {
  invalid: { status: 400, type: 'invalid_request_error', code: null },
  authentication: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  not_found: { status: 404, type: 'invalid_request_error', code: 'not_found' },
  rate_limited: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  forbidden: { status: 403, type: 'permission_error', code: 'permission_denied' },
  // The key's budget is spent: what OpenAI answers for an exhausted quota.
  quota_exhausted: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota' },
  unavailable: { status: 503, type: 'server_error', code: 'service_unavailable' },
  analysis_failed: { status: 502, type: 'server_error', code: 'upstream_error' },
  internal: { status: 500, type: 'server_error', code: 'internal' },
};

export function openAIError(error: ChatError): {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
} {
  const shape = SHAPES[error.kind];
  const headers: Record<string, string> = {};
  if (error.details.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(error.details.retryAfterSeconds);
  return {
    status: shape.status,
    headers,
    body: {
      error: {
        message: error.message,
        type: shape.type,
        param: error.details.param ?? null,
        code: error.details.code ?? shape.code,
      },
    },
  };
}
