/**
 * The ledger of what each key spends: per budget window, what is spent and
 * what analyses in flight have reserved; per day, model and pattern, the
 * usage. Amounts are integer nano-dollars, so sums never drift.
 */
export const NANO = 1e9;
export const toNano = (usd: number) => Math.ceil(usd * NANO - 1e-6);
export const toUsd = (nano: number) => nano / NANO;

export interface WindowTotals {
  spent: number;
  reserved: number;
}

/** One model call's spend, as it ended. */
export interface Charge {
  key: string;
  /** The budget window the analysis reserved in; undefined when its key has no budget. */
  window: string | undefined;
  analysisId: string;
  cost: number;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  model: string;
  pattern: string;
  inputTokens: number;
  outputTokens: number;
}

export interface UsageRow {
  day: string;
  model: string;
  pattern: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

export interface BudgetLedger {
  /**
   * Reserves `amount` for an analysis if spent + reserved + amount stays
   * within `limit`, in one atomic step; answers the totals either way.
   */
  reserve(
    key: string,
    window: string,
    analysisId: string,
    amount: number,
    limit: number,
  ): Promise<{ ok: boolean } & WindowTotals>;
  /** Adds a call's cost to what is spent and takes it off the analysis's reservation. */
  charge(charge: Charge): Promise<void>;
  /** Gives back what is left of an analysis's reservation. */
  release(key: string, window: string, analysisId: string): Promise<void>;
  totals(key: string, window: string): Promise<WindowTotals>;
  /** Usage rows of the days `from`..`to` (inclusive, `YYYY-MM-DD`). */
  usage(key: string, from: string, to: string): Promise<UsageRow[]>;
}

/** Every UTC day from `from` to `to` (inclusive), at most `max`. */
export function daysBetween(from: string, to: string, max = 366): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); days.length < max; at += 86_400_000) {
    const day = new Date(at).toISOString().slice(0, 10);
    if (day > to) break;
    days.push(day);
  }
  return days;
}

/** The ledger of one process (STORE=memory). */
export class MemoryLedger implements BudgetLedger {
  private readonly windows = new Map<string, WindowTotals & { reservations: Map<string, number> }>();
  private readonly days = new Map<string, Map<string, UsageRow>>();

  private window(key: string, window: string) {
    const id = `${key}\n${window}`;
    let found = this.windows.get(id);
    if (!found) {
      found = { spent: 0, reserved: 0, reservations: new Map() };
      this.windows.set(id, found);
    }
    return found;
  }

  async reserve(key: string, window: string, analysisId: string, amount: number, limit: number) {
    const totals = this.window(key, window);
    if (totals.spent + totals.reserved + amount > limit) {
      return { ok: false, spent: totals.spent, reserved: totals.reserved };
    }
    totals.reserved += amount;
    totals.reservations.set(analysisId, (totals.reservations.get(analysisId) ?? 0) + amount);
    return { ok: true, spent: totals.spent, reserved: totals.reserved };
  }

  async charge(charge: Charge): Promise<void> {
    if (charge.window !== undefined) {
      const totals = this.window(charge.key, charge.window);
      totals.spent += charge.cost;
      const left = totals.reservations.get(charge.analysisId) ?? 0;
      const taken = Math.min(left, charge.cost);
      if (taken > 0) {
        totals.reservations.set(charge.analysisId, left - taken);
        totals.reserved -= taken;
      }
    }
    const dayId = `${charge.key}\n${charge.day}`;
    let rows = this.days.get(dayId);
    if (!rows) {
      rows = new Map();
      this.days.set(dayId, rows);
    }
    const rowId = `${charge.model}\n${charge.pattern}`;
    const row = rows.get(rowId) ?? {
      day: charge.day,
      model: charge.model,
      pattern: charge.pattern,
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      cost: 0,
    };
    row.calls += 1;
    row.inputTokens += charge.inputTokens;
    row.outputTokens += charge.outputTokens;
    row.cost += charge.cost;
    rows.set(rowId, row);
  }

  async release(key: string, window: string, analysisId: string): Promise<void> {
    const totals = this.window(key, window);
    totals.reserved -= totals.reservations.get(analysisId) ?? 0;
    totals.reservations.delete(analysisId);
  }

  async totals(key: string, window: string): Promise<WindowTotals> {
    const { spent, reserved } = this.window(key, window);
    return { spent, reserved };
  }

  async usage(key: string, from: string, to: string): Promise<UsageRow[]> {
    return daysBetween(from, to).flatMap((day) => [...(this.days.get(`${key}\n${day}`)?.values() ?? [])]);
  }
}
