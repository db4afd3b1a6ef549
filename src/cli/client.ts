import { CliError, EXIT } from './errors.js';

/** Where the service is and who is asking: CHORUS_URL and CHORUS_API_KEY. */
export interface ClientSettings {
  baseUrl: string;
  apiKey: string | undefined;
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The settings from the environment; a CHORUS_URL that is not a URL stops here with a clear message. */
export function clientSettings(env: NodeJS.ProcessEnv): ClientSettings {
  const raw = env.CHORUS_URL?.trim() || DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(
      `CHORUS_URL is not a URL: "${raw}".`,
      EXIT.usage,
      `Set it like CHORUS_URL=${DEFAULT_URL}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`CHORUS_URL must be http or https, not ${url.protocol}`, EXIT.usage);
  return { baseUrl: url.href.replace(/\/+$/, ''), apiKey: env.CHORUS_API_KEY?.trim() || undefined };
}

interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: Array<{ path?: string; message?: string }>;
}

/** The one-line explanation of a refusal, the fields at fault, and what to do about it. */
function refusal(status: number, body: unknown, method: string, path: string): CliError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  const said = problem.detail ?? problem.title ?? `HTTP ${status}`;
  const details = (problem.errors ?? [])
    .filter((error) => error.message !== said)
    .map((error) => `${error.path || '/'}: ${error.message ?? ''}`);
  if (status === 401)
    return new CliError(
      `Chorus refused the API key (${said})`,
      EXIT.refused,
      "Set CHORUS_API_KEY to one of the keys in the server's API_KEYS.",
    );
  if (status >= 500)
    return new CliError(
      `Chorus failed on ${method} ${path}: ${said}`,
      EXIT.serverError,
      'Try again; the server log names the request id.',
      details,
    );
  return new CliError(said, EXIT.refused, undefined, details, status);
}

/** A small client of Chorus's HTTP API: JSON in and out, problems turned into CliErrors. */
export class ChorusClient {
  constructor(readonly settings: ClientSettings) {}

  url(path: string): string {
    return `${this.settings.baseUrl}${path}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: 'application/json',
      ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}),
      ...extra,
    };
  }

  /** The raw answer, or a CliError when the service cannot be reached. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(this.url(path), init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(
        `Cannot reach Chorus at ${this.settings.baseUrl} (${why}).`,
        EXIT.unreachable,
        'Start it with `chorus serve`, or point CHORUS_URL at a running instance.',
      );
    }
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<T> {
    const response = await this.fetch(path, {
      method,
      headers: this.headers(body === undefined ? extra : { 'content-type': 'application/json', ...extra }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      parsed = { detail: text.slice(0, 200) };
    }
    if (!response.ok) throw refusal(response.status, parsed, method, path);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
}
