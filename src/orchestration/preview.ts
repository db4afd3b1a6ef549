/**
 * A pattern's prompts without a model call: each stage's template rendered as
 * a run would render it, with placeholder text standing for the outputs of
 * earlier stages (every model is assumed to answer).
 */
import type { PatternDefinition, StageDefinition } from './patterns/types.js';
import { StageInputs, type StageOutput, stageParticipants } from './stage-inputs.js';
import { renderedBytes, renderTemplate } from './template.js';

export interface PreviewSelection {
  /** The models of the analysis, as it would select them. */
  models: readonly string[];
  /** The order a single-model stage tries its models: synthesis model first. */
  fallbackOrder: readonly string[];
}

export interface StagePreview {
  name: string;
  mode: StageDefinition['mode'];
  prompts: Array<{ model: string; prompt: string }>;
}

export type PreviewOutcome =
  | { ok: true; stages: StagePreview[] }
  /** The prompts would hold more than `maxBytes`: nothing was rendered. */
  | { ok: false; bytes: number };

/** What stands for a model's output of a stage. An anonymized stage is shown no model id, as in a run. */
function placeholder(stage: string, model: string, anonymized: boolean): string {
  return anonymized ? `<an output of the ${stage} stage>` : `<the ${stage} output of ${model}>`;
}

/** The stages before one, as the stage would be shown them. */
function outputsFor(reader: StageDefinition, produced: ReadonlyArray<[string, readonly string[]]>) {
  const anonymized = reader.anonymize === true;
  const earlier = new Map<string, StageOutput[]>();
  for (const [stage, models] of produced) {
    earlier.set(
      stage,
      models.map((model) => ({ model, text: placeholder(stage, model, anonymized) })),
    );
  }
  const last = produced.at(-1);
  return { previous: last ? earlier.get(last[0])! : [], earlier };
}

/**
 * The prompts each stage would send, checked against `maxBytes` (UTF-8, over
 * all prompts) before any is built: a template may repeat a long prompt.
 */
export function previewPattern(
  pattern: PatternDefinition,
  prompt: string,
  selection: PreviewSelection,
  maxBytes: number,
): PreviewOutcome {
  const plan: Array<{ stage: StageDefinition; inputs: StageInputs; models: readonly string[] }> = [];
  const produced: Array<[string, readonly string[]]> = [];
  let bytes = 0;
  pattern.stages.forEach((stage, index) => {
    const { previous, earlier } = outputsFor(stage, produced);
    const inputs = new StageInputs(stage, prompt, previous, earlier);
    const models = stageParticipants(stage, index, selection.models, previous, selection.fallbackOrder);
    for (const model of models) bytes += renderedBytes(stage.template, inputs.valuesFor(model));
    plan.push({ stage, inputs, models });
    produced.push([stage.name, models]);
  });
  if (bytes > maxBytes) return { ok: false, bytes };
  const stages = plan.map(({ stage, inputs, models }) => ({
    name: stage.name,
    mode: stage.mode,
    prompts: models.map((model) => ({
      model,
      prompt: renderTemplate(stage.template, inputs.valuesFor(model)),
    })),
  }));
  return { ok: true, stages };
}
