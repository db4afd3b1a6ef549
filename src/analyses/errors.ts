/** What the job domain refuses, independent of HTTP; the HTTP layer maps kinds to statuses. */
export type ServiceErrorKind =
  | 'not_found'
  | 'invalid'
  | 'too_large'
  | 'conflict'
  | 'unprocessable'
  | 'forbidden'
  | 'budget_exhausted'
  | 'unavailable'
  | 'idempotency_conflict'
  | 'idempotency_mismatch';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly details: {
      errors?: Array<{ path: string; message: string }>;
      retryAfterSeconds?: number;
      /** budget_exhausted: the budget, what is spent and when it resets. */
      budget?: {
        usd: number;
        period: string;
        spentUsd: number;
        reservedUsd: number;
        resetsAt: string | null;
      };
    } = {},
  ) {
    super(message);
  }
}
