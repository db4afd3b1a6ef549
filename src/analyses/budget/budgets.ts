import type { FastifyBaseLogger as Logger } from 'fastify';
import { ServiceError } from '../errors.js';
import type { AnalysisEventPayload } from '../events.js';
import type { AnalysisJob } from '../job.js';
import type { BudgetPeriod, KeyPolicy } from '../key-policy.js';
import type { AnalysisStore } from '../store/store.js';
import { type BudgetLedger, toNano, toUsd } from './ledger.js';

/** The calendar window (UTC) a budget counts in now, and when the next one starts. */
export function budgetWindow(period: BudgetPeriod, now: number): { window: string; resetsAt: string | null } {
  const at = new Date(now);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (period === 'day') {
    const next = Date.UTC(year, month, at.getUTCDate() + 1);
    return { window: `day:${at.toISOString().slice(0, 10)}`, resetsAt: new Date(next).toISOString() };
  }
  if (period === 'month') {
    const next = Date.UTC(year, month + 1, 1);
    return { window: `month:${at.toISOString().slice(0, 7)}`, resetsAt: new Date(next).toISOString() };
  }
  return { window: 'total', resetsAt: null };
}

export interface BudgetStatus {
  usd: number;
  period: BudgetPeriod;
  spentUsd: number;
  reservedUsd: number;
  remainingUsd: number;
  resetsAt: string | null;
}

/** Tries of a charge while the store does not answer (about a minute in all). */
const CHARGE_RETRIES = 15;

const dollars = (usd: number) => `$${usd.toFixed(usd < 1 ? 6 : 2)}`;

/**
 * Budgets that hold: admission reserves an analysis's worst case against what
 * is left (spent plus reserved), each call's cost is charged as it ends, and
 * what is left of the reservation is given back when the analysis ends. The
 * ledger makes each step atomic (Redis: across every process).
 */
export class Budgets {
  /** Charges not yet written, per analysis: its end waits for them before releasing. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(
    private readonly ledger: BudgetLedger,
    private readonly store: AnalysisStore,
    private readonly logger: Logger,
    now?: () => number,
  ) {
    this.now = now ?? Date.now;
  }

  /**
   * Reserves `maxUsd` for an analysis of `key`; refuses (402) one that does
   * not fit. Answers the window reserved in and what the analysis may spend
   * at most (its reservation and what no one else holds); undefined for a key
   * without budget.
   */
  async admit(
    key: KeyPolicy | undefined,
    analysisId: string,
    maxUsd: number,
  ): Promise<{ window: string; mayCostUsd: number } | undefined> {
    if (!key?.budget) return undefined;
    const { usd, period } = key.budget;
    const { window, resetsAt } = budgetWindow(period, this.now());
    const amount = toNano(maxUsd);
    const outcome = await this.ledger.reserve(key.name, window, analysisId, amount, toNano(usd));
    if (outcome.ok)
      return { window, mayCostUsd: toUsd(toNano(usd) - outcome.spent - outcome.reserved + amount) };
    const spentUsd = toUsd(outcome.spent);
    const reservedUsd = toUsd(outcome.reserved);
    const when = resetsAt ? `it resets at ${resetsAt}` : 'it never resets (period total)';
    throw new ServiceError(
      'budget_exhausted',
      `API key "${key.name}" has a ${period === 'total' ? 'total' : `${period}ly`} budget of ${dollars(usd)}: ${dollars(spentUsd)} is spent and ${dollars(reservedUsd)} reserved by analyses in flight, and this analysis may cost up to ${dollars(maxUsd)}; ${when}.`,
      { budget: { usd, period, spentUsd, reservedUsd, resetsAt } },
    );
  }

  /** Gives back an admitted reservation (the analysis could not be queued). */
  async cancelAdmission(key: KeyPolicy, window: string, analysisId: string): Promise<void> {
    await this.ledger.release(key.name, window, analysisId);
  }

  /** Charges each call's cost as it ends (an in-process reader of the run's events). */
  readonly observe = (job: AnalysisJob, event: AnalysisEventPayload): void => {
    if (event.type !== 'model.completed') return;
    const { data } = event;
    const charge = {
      key: job.owner,
      window: job.budgetWindow,
      analysisId: job.id,
      cost: toNano(data.costUsd),
      day: new Date(this.now()).toISOString().slice(0, 10),
      model: data.model,
      pattern: job.pattern.name,
      inputTokens: data.usage.inputTokens,
      outputTokens: data.usage.outputTokens,
    };
    const before = this.pending.get(job.id) ?? Promise.resolve();
    const next = before
      .then(() => this.chargeRetrying(charge))
      .catch((error: unknown) =>
        this.logger.error({ err: error, analysisId: job.id }, 'a model call could not be charged to its key'),
      );
    this.pending.set(job.id, next);
    void next.then(() => {
      if (this.pending.get(job.id) === next) this.pending.delete(job.id);
    });
  };

  /** A store that blinks (Redis restarting) is waited for: spend is never dropped for a short outage. */
  private async chargeRetrying(charge: Parameters<BudgetLedger['charge']>[0]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.ledger.charge(charge);
      } catch (error) {
        if (attempt >= CHARGE_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  /** The analysis ended: once its charges are written, what is left of its reservation goes back. */
  async ended(analysisId: string): Promise<void> {
    await this.pending.get(analysisId);
    try {
      const stored = await this.store.get(analysisId);
      const window = stored?.job.budgetWindow;
      if (stored && window !== undefined) await this.ledger.release(stored.job.owner, window, analysisId);
    } catch (error) {
      // The reservation stays held (spend can never pass the budget); it is logged to be seen.
      this.logger.error(
        { err: error, analysisId },
        "an ended analysis's budget reservation could not be released",
      );
    }
  }

  /** A key's budget as it stands now; null for a key without one. */
  async status(key: KeyPolicy | undefined): Promise<BudgetStatus | null> {
    if (!key?.budget) return null;
    const { usd, period } = key.budget;
    const { window, resetsAt } = budgetWindow(period, this.now());
    const totals = await this.ledger.totals(key.name, window);
    const spentUsd = toUsd(totals.spent);
    const reservedUsd = toUsd(totals.reserved);
    const remainingUsd = Math.max(0, toUsd(toNano(usd) - totals.spent - totals.reserved));
    return { usd, period, spentUsd, reservedUsd, remainingUsd, resetsAt };
  }

  usage(keyName: string, from: string, to: string) {
    return this.ledger.usage(keyName, from, to);
  }
}
