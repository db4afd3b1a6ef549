import type { FastifyBaseLogger as Logger } from 'fastify';
import { Webhook } from 'standardwebhooks';
import type { AnalysisRecord } from '../record.js';
import type { AnalysisStore } from '../store/store.js';
import type { DeliveryLog } from './delivery-log.js';
import { type SendOptions, sendWebhook } from './send.js';

const EVENT_TYPES: Partial<Record<AnalysisRecord['status'], string>> = {
  succeeded: 'analysis.completed',
  failed: 'analysis.failed',
  cancelled: 'analysis.cancelled',
};

export interface DelivererOptions {
  store: AnalysisStore;
  log: DeliveryLog;
  /** WEBHOOK_SECRET, `whsec_…`. */
  secret: string;
  send: SendOptions;
  logger: Logger;
  /** Epoch milliseconds: the attempt's signature timestamp and its `at`. */
  now?: () => number;
}

/**
 * One delivery attempt of an ended analysis: its final record, signed as the
 * Standard Webhooks specification says, posted, and the outcome added to the
 * delivery log. The `webhook-id` is the same on every attempt, so a receiver
 * can drop a repeat. An analysis deleted or expired since is not delivered.
 */
export class WebhookDeliverer {
  readonly #signer: Webhook;
  readonly #now: () => number;

  constructor(private readonly options: DelivererOptions) {
    this.#signer = new Webhook(options.secret);
    this.#now = options.now ?? Date.now;
  }

  /** 'retry' when the receiver did not take it (another attempt may follow). */
  async attempt(analysisId: string, attempt: number): Promise<'done' | 'retry'> {
    const stored = await this.options.store.get(analysisId);
    const record = stored?.record;
    const type = record && EVENT_TYPES[record.status];
    if (!record?.webhook || !type) return 'done';
    const body = JSON.stringify({ type, timestamp: record.completedAt, data: record });
    const at = this.#now();
    const id = `msg_${analysisId}`;
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at / 1000)),
      'webhook-signature': this.#signer.sign(id, new Date(at), body),
    };
    const outcome = await sendWebhook(record.webhook.url, body, headers, this.options.send);
    await this.options.log.add(analysisId, { attempt, at: new Date(at).toISOString(), ...outcome });
    if (outcome.error !== null) {
      this.options.logger.warn(
        { analysisId, attempt, status: outcome.status, reason: outcome.error },
        'webhook delivery failed',
      );
      return 'retry';
    }
    return 'done';
  }
}
