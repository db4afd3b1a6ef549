/** Chat errors in Anthropic's shape: `{ type: "error", error: { type, message } }`. */
import type { ChatError, ChatErrorKind } from '../chat/chat-error.js';
import type { SurfaceErrorAnswer } from '../chat/error-handler.js';

const SHAPES: Record<ChatErrorKind, { status: number; type: string }> = {
  invalid: { status: 400, type: 'invalid_request_error' },
  authentication: { status: 401, type: 'authentication_error' },
  not_found: { status: 404, type: 'not_found_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  forbidden: { status: 403, type: 'permission_error' },
  quota_exhausted: { status: 429, type: 'rate_limit_error' },
  unavailable: { status: 503, type: 'overloaded_error' },
  analysis_failed: { status: 502, type: 'api_error' },
  internal: { status: 500, type: 'api_error' },
};

export function anthropicErrorType(kind: ChatErrorKind): string {
  return SHAPES[kind].type;
}

export function anthropicError(error: ChatError): SurfaceErrorAnswer {
  const shape = SHAPES[error.kind];
  const headers: Record<string, string> = {};
  if (error.details.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(error.details.retryAfterSeconds);
  const where = error.details.param ? ` (${error.details.param})` : '';
  const code = error.kind === 'analysis_failed' && error.details.code ? ` [${error.details.code}]` : '';
  return {
    status: shape.status,
    headers,
    body: { type: 'error', error: { type: shape.type, message: `${error.message}${where}${code}` } },
  };
}
