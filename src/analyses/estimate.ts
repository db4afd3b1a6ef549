import type { ModelRegistry, RegisteredModel } from '../models/registry.js';
import { adaptSettings } from '../models/settings.js';
import { type TokenCounter, tokenCounterFor } from '../models/tokens.js';
import type { RunOptions } from '../orchestration/events.js';
import type { PatternDefinition } from '../orchestration/patterns/types.js';
import { StageInputs, type StageOutput } from '../orchestration/stage-inputs.js';
import { renderTemplate } from '../orchestration/template.js';
import type { OutputLengths } from './output-lengths.js';

/** What an analysis will cost, worked out before it runs (`POST /v1/analyses/estimate`). */
export interface AnalysisEstimate {
  calls: number;
  stages: Array<{ name: string; calls: number; inputTokens: number; maxOutputTokens: number }>;
  inputTokens: number;
  maxOutputTokens: number;
  costUsd: { expected: number; max: number };
  tokenizer: string;
}

export interface EstimateInput {
  pattern: PatternDefinition;
  models: readonly string[];
  synthesisModel: string;
  prompt: string;
  system: string | undefined;
  options: RunOptions;
}

/** Output tokens assumed for a model that neither the request nor the provider limits. */
export const UNLIMITED_OUTPUT_TOKENS = 4096;

/** The most a call to `model` may write: the request's maxTokens (as adapted), else the model's own limit. */
export function maxOutputTokensOf(model: RegisteredModel, options: RunOptions): number {
  return (
    adaptSettings(model, options).settings.maxTokens ??
    model.languageModel.capabilities.maxOutputTokens ??
    UNLIMITED_OUTPUT_TOKENS
  );
}

/** Stand-in outputs are private-use characters around an index: no text a model reads has them. */
const MARKER = /\uE000(\d+)\uE001/g;
const usd = (value: number) => Math.round(value * 1e9) / 1e9;

/**
 * Walks the pattern as the engine would, without calling a model. Earlier
 * stages' outputs are stand-ins: the prompt of a later stage is counted
 * without them, and each output it quotes adds its model's maxTokens (for
 * `max`) or the length that model was seen to write (for `expected`). A
 * fan-out stage calls every model that answered before it; a `one` stage
 * calls the synthesis model once (fallbacks only run when it fails).
 */
export function estimateAnalysis(
  registry: ModelRegistry,
  lengths: OutputLengths,
  input: EstimateInput,
): AnalysisEstimate {
  const producers: string[] = [];
  const standIn = (model: string): StageOutput => {
    producers.push(model);
    return { model, text: `\uE000${producers.length - 1}\uE001` };
  };
  const limits = new Map<string, { max: number; expected: number; model: RegisteredModel }>();
  const limitsOf = (id: string) => {
    let found = limits.get(id);
    if (!found) {
      const model = registry.get(id)!;
      const max = maxOutputTokensOf(model, input.options);
      found = { max, expected: lengths.expected(id, max), model };
      limits.set(id, found);
    }
    return found;
  };
  const counters = new Map<string, string[]>();
  // The same text (a first stage's prompt, for every model) is counted once per tokenizer.
  const counted = new Map<string, number>();
  const count = (counter: TokenCounter, text: string) => {
    const key = `${counter.name}\n${text}`;
    let found = counted.get(key);
    if (found === undefined) {
      found = counter.count(text);
      counted.set(key, found);
    }
    return found;
  };
  const estimate: AnalysisEstimate = {
    calls: 0,
    stages: [],
    inputTokens: 0,
    maxOutputTokens: 0,
    costUsd: { expected: 0, max: 0 },
    tokenizer: '',
  };
  let previous: StageOutput[] = [];
  const earlier = new Map<string, StageOutput[]>();
  input.pattern.stages.forEach((stage, index) => {
    const participants =
      stage.mode === 'one'
        ? [input.synthesisModel]
        : index === 0 || previous.length === 0
          ? [...input.models]
          : previous.map((output) => output.model);
    const inputs = new StageInputs(stage, input.prompt, previous, earlier);
    const row = { name: stage.name, calls: participants.length, inputTokens: 0, maxOutputTokens: 0 };
    for (const id of participants) {
      const { max, expected, model } = limitsOf(id);
      const counter = tokenCounterFor(model.model);
      counters.set(counter.name, [...(counters.get(counter.name) ?? []), id]);
      let quotedMax = 0;
      let quotedExpected = 0;
      const text = renderTemplate(stage.template, inputs.valuesFor(id)).replace(MARKER, (_, at: string) => {
        const producer = limitsOf(producers[Number(at)]!);
        quotedMax += producer.max;
        quotedExpected += producer.expected;
        return '';
      });
      const own = count(counter, text) + (input.system ? count(counter, input.system) : 0);
      const { inputCostPerMTok, outputCostPerMTok } = model.pricing;
      row.inputTokens += own + quotedMax;
      row.maxOutputTokens += max;
      estimate.costUsd.max += ((own + quotedMax) * inputCostPerMTok + max * outputCostPerMTok) / 1e6;
      estimate.costUsd.expected +=
        ((own + quotedExpected) * inputCostPerMTok + expected * outputCostPerMTok) / 1e6;
    }
    previous = participants.map(standIn);
    earlier.set(stage.name, previous);
    estimate.stages.push(row);
    estimate.calls += row.calls;
    estimate.inputTokens += row.inputTokens;
    estimate.maxOutputTokens += row.maxOutputTokens;
  });
  estimate.costUsd = { expected: usd(estimate.costUsd.expected), max: usd(estimate.costUsd.max) };
  estimate.tokenizer =
    counters.size === 1
      ? [...counters.keys()][0]!
      : [...counters].map(([name, ids]) => `${name} for ${[...new Set(ids)].join(', ')}`).join('; ');
  return estimate;
}
