import type { ProviderFactory, ProviderSettings } from '../providers/index.js';
import type { Availability, LanguageModel, Provider } from '../providers/spec.js';

export type { ProviderFactory } from '../providers/index.js';

/** What the registry knows of a model beyond its adapter: how it is chosen and what it costs. */
export interface ModelEntry {
  /** The provider's own model name (the adapter's model of that id). */
  id: string;
  weight: number;
  tags: string[];
  inputCostPerMTok: number;
  outputCostPerMTok: number;
}

/** The limits the call chain keeps for one provider. */
export interface ProviderLimits {
  /** Calls running at once; the caller's default when unset. */
  concurrency?: number | undefined;
  /** Requests per minute; no rate limit when unset. */
  rpm?: number | undefined;
}

/** One provider as the registry is given it: the adapter's settings and what the call chain needs. */
export interface ProviderEntry {
  adapter: ProviderSettings;
  limits: ProviderLimits;
  /** Each attempt of a call to one of its models ends after this long (a call may ask for less or more). */
  timeoutMs: number;
  models: readonly ModelEntry[];
  /** Where the provider was configured (`env`, `<file>:<line>`), for boot errors. */
  source: string;
}

export interface RegisteredModel {
  id: string;
  provider: string;
  model: string;
  weight: number;
  tags: string[];
  pricing: { inputCostPerMTok: number; outputCostPerMTok: number };
  languageModel: LanguageModel;
  /** The per-attempt timeout of its calls, unless a call sets its own. */
  timeoutMs: number;
}

/** Highest weight first; ties broken by id so the order never depends on the configuration's order. */
export function byWeight(a: RegisteredModel, b: RegisteredModel): number {
  return b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Every configured model, by id, with its provider's last known availability. */
export class ModelRegistry {
  readonly models: ReadonlyMap<string, RegisteredModel>;
  readonly providers: ReadonlyMap<string, Provider>;
  /** Each provider's limits, by provider name. */
  readonly limits: ReadonlyMap<string, ProviderLimits>;
  private readonly availability = new Map<string, Availability>();
  private readonly ordered: RegisteredModel[];

  constructor(entries: readonly ProviderEntry[], factories: Readonly<Record<string, ProviderFactory>>) {
    const models = new Map<string, RegisteredModel>();
    const providers = new Map<string, Provider>();
    const limits = new Map<string, ProviderLimits>();
    for (const entry of entries) {
      const { adapter } = entry;
      const factory = factories[adapter.kind];
      if (!factory) throw new Error(`No adapter for provider kind "${adapter.kind}" (${entry.source}).`);
      const provider = factory(adapter);
      providers.set(adapter.name, provider);
      limits.set(adapter.name, entry.limits);
      for (const languageModel of provider.models) {
        const model = entry.models.find((candidate) => candidate.id === languageModel.model)!;
        models.set(languageModel.id, {
          id: languageModel.id,
          provider: adapter.name,
          model: languageModel.model,
          weight: model.weight,
          tags: model.tags,
          pricing: { inputCostPerMTok: model.inputCostPerMTok, outputCostPerMTok: model.outputCostPerMTok },
          languageModel,
          timeoutMs: entry.timeoutMs,
        });
      }
    }
    this.models = models;
    this.providers = providers;
    this.limits = limits;
    this.ordered = [...models.values()].sort(byWeight);
  }

  get(id: string): RegisteredModel | undefined {
    return this.models.get(id);
  }

  /** All models, highest weight first. */
  list(): readonly RegisteredModel[] {
    return this.ordered;
  }

  /** Last known availability of a model's provider; unknown counts as available. */
  isAvailable(id: string): boolean {
    const model = this.models.get(id);
    if (!model) return false;
    return this.availability.get(model.provider)?.available ?? true;
  }

  availabilityOf(provider: string): Availability | undefined {
    return this.availability.get(provider);
  }

  /** Probes every provider (each adapter caches its probe for a short time). */
  async refreshAvailability(signal?: AbortSignal): Promise<void> {
    await Promise.all(
      [...this.providers.values()].map(async (provider) => {
        try {
          this.availability.set(provider.name, await provider.checkAvailability(signal));
        } catch {
          this.availability.set(provider.name, {
            available: false,
            reason: 'The availability probe failed.',
            checkedAt: new Date().toISOString(),
          });
        }
      }),
    );
  }

  /** What the given usage costs on a model, in US dollars. */
  cost(id: string, inputTokens: number, outputTokens: number): number {
    const model = this.models.get(id);
    if (!model) return 0;
    return (
      (inputTokens * model.pricing.inputCostPerMTok + outputTokens * model.pricing.outputCostPerMTok) /
      1_000_000
    );
  }
}
