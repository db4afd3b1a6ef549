/** What `GET /v1/models` and the metrics show of each model's recent calls. */
export interface ModelHealth {
  circuit(modelId: string): 'closed' | 'open' | 'halfOpen';
  stats(modelId: string): { requests: number; failures: number; p50LatencyMs: number | null };
}
