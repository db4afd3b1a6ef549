/** What an upstream request id looks like: a short token (`req_…`, a UUID, `abc-123:4`). */
const TOKEN_SHAPE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Prefixes of credentials (OpenAI, Anthropic, most OpenAI-compatible servers), never of a request id. */
const CREDENTIAL_LOOKALIKE = /^(?:sk|pk|rk|key|api|token|secret|bearer|basic)[-_.:]/i;

interface HeaderSource {
  get(name: string): string | null;
}

/**
 * The upstream's request id, for logs and errors, or undefined. The id is an
 * upstream's own text: one that echoes our `Authorization` (or anything longer
 * or stranger than a token) would put a key in our logs, so it is dropped.
 */
export function upstreamRequestId(headers: HeaderSource | undefined, ...names: string[]): string | undefined {
  if (!headers) return undefined;
  for (const name of names) {
    const value = headers.get(name)?.trim();
    if (!value) continue;
    return TOKEN_SHAPE.test(value) && !CREDENTIAL_LOOKALIKE.test(value) ? value : undefined;
  }
  return undefined;
}
