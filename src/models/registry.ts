import type { ModelConfig, ProviderConfig } from '../config/types.js';
import type { Availability, LanguageModel, Provider } from '../providers/spec.js';

export interface RegisteredModel {
  id: string;
  provider: string;
  model: string;
  weight: number;
  tags: string[];
  pricing: { inputCostPerMTok: number; outputCostPerMTok: number };
  languageModel: LanguageModel;
  providerConfig: ProviderConfig;
  config: ModelConfig;
}

export type ProviderFactory = (config: ProviderConfig) => Provider;

/** Highest weight first; ties broken by id so the order never depends on the configuration's order. */
export function byWeight(a: RegisteredModel, b: RegisteredModel): number {
  return b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Every configured model, by id, with its provider's last known availability. */
export class ModelRegistry {
  readonly models: ReadonlyMap<string, RegisteredModel>;
  readonly providers: ReadonlyMap<string, Provider>;
  private readonly availability = new Map<string, Availability>();
  private readonly ordered: RegisteredModel[];

  constructor(configs: readonly ProviderConfig[], factories: Readonly<Record<string, ProviderFactory>>) {
    const models = new Map<string, RegisteredModel>();
    const providers = new Map<string, Provider>();
    for (const config of configs) {
      const factory = factories[config.kind];
      if (!factory) throw new Error(`No adapter for provider kind "${config.kind}" (${config.source}).`);
      const provider = factory(config);
      providers.set(config.name, provider);
      for (const languageModel of provider.models) {
        const modelConfig = config.models.find((entry) => entry.id === languageModel.model)!;
        models.set(languageModel.id, {
          id: languageModel.id,
          provider: config.name,
          model: languageModel.model,
          weight: modelConfig.weight,
          tags: modelConfig.tags,
          pricing: {
            inputCostPerMTok: modelConfig.inputCostPerMTok,
            outputCostPerMTok: modelConfig.outputCostPerMTok,
          },
          languageModel,
          providerConfig: config,
          config: modelConfig,
        });
      }
    }
    this.models = models;
    this.providers = providers;
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
