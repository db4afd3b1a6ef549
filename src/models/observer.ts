/** What the call chain reports, for metrics. */
export interface CallObserver {
  attemptFinished(
    modelId: string,
    outcome: 'success' | 'failure' | 'cancelled',
    seconds: number,
    code?: string,
  ): void;
  retried(modelId: string, code: string): void;
  cache(hit: boolean): void;
}
