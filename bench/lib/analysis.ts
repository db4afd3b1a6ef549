/** One analysis as a client makes it: a tagged prompt, sent with `Prefer: wait`, and its outcome. */
import { postJson } from './http.js';

/** A prompt no other analysis of the run has sent, carrying a tag the fake upstream can read back. */
export function taggedPrompt(tag: string): string {
  return `[bench:${tag}] How should a five-person team decide whether to split its monolith into services?`;
}

export interface AnalysisOutcome {
  ok: boolean;
  ms: number;
  status: number;
  detail?: string;
}

/** One analysis with `Prefer: wait=60`: ok when the answer is 200 with a succeeded record. */
export async function runAnalysis(
  serviceUrl: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<AnalysisOutcome> {
  try {
    const answer = await postJson(
      `${serviceUrl}/v1/analyses`,
      body,
      { prefer: 'wait=60', ...headers },
      90_000,
    );
    if (answer.status !== 200) {
      return { ok: false, ms: answer.ms, status: answer.status, detail: answer.body.slice(0, 300) };
    }
    const record = JSON.parse(answer.body) as { status?: string; error?: unknown };
    const ok = record.status === 'succeeded';
    return {
      ok,
      ms: answer.ms,
      status: answer.status,
      ...(ok ? {} : { detail: `status ${record.status}: ${JSON.stringify(record.error)}` }),
    };
  } catch (error) {
    return { ok: false, ms: Number.NaN, status: 0, detail: String(error) };
  }
}
