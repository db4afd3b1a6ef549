/** One attempt at delivering an analysis's webhook, as the record shows it. */
export interface WebhookDelivery {
  attempt: number;
  /** When the attempt was made, ISO 8601. */
  at: string;
  /** The receiver's HTTP status; null when none came back (refused address, time-out, reset). */
  status: number | null;
  error: string | null;
}

/** The record's `webhook`: where it is delivered, and how each attempt went. */
export interface AnalysisWebhook {
  url: string;
  deliveries: WebhookDelivery[];
}

/** A resolved address of a host name, as `dns.lookup(host, { all: true })` answers. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (injected in tests to play DNS). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;
