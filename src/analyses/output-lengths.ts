/** Output tokens assumed for a model that has not answered yet (capped by its maxTokens). */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 500;

/**
 * The mean output length each model has written, from the calls this process
 * has seen end: what an estimate's `expected` cost assumes a call will write.
 */
export class OutputLengths {
  private readonly seen = new Map<string, { calls: number; tokens: number }>();

  observe(modelId: string, outputTokens: number): void {
    const entry = this.seen.get(modelId) ?? { calls: 0, tokens: 0 };
    entry.calls += 1;
    entry.tokens += outputTokens;
    this.seen.set(modelId, entry);
  }

  expected(modelId: string, maxTokens: number): number {
    const entry = this.seen.get(modelId);
    const mean = entry ? Math.round(entry.tokens / entry.calls) : DEFAULT_EXPECTED_OUTPUT_TOKENS;
    return Math.min(mean, maxTokens);
  }
}
