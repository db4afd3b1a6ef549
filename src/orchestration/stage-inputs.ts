import type { StageDefinition } from './patterns/types.js';
import type { TemplateValues } from './template.js';

export interface StageOutput {
  model: string;
  text: string;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `Response A` … `Response Z`, then `Response AA`, … */
export function responseLabel(index: number): string {
  let label = '';
  let rest = index;
  do {
    label = LETTERS[rest % 26] + label;
    rest = Math.floor(rest / 26) - 1;
  } while (rest >= 0);
  return `Response ${label}`;
}

/**
 * The models a stage calls: a `one` stage its first choice (the synthesis
 * model), the first `each` stage every model of the analysis, a later one the
 * models that answered the stage before.
 */
export function stageParticipants(
  stage: StageDefinition,
  index: number,
  models: readonly string[],
  previous: readonly StageOutput[],
  fallbackOrder: readonly string[],
): readonly string[] {
  if (stage.mode === 'one') return [fallbackOrder[0]!];
  return index === 0 || previous.length === 0 ? models : previous.map((output) => output.model);
}

function block(heading: string, text: string): string {
  return `### ${heading}\n${text}`;
}

/**
 * Builds the template values of one stage from the outputs before it. Labels
 * are assigned by position in the previous stage's outputs, so the same model
 * has the same label for every reviewer of the stage.
 */
export class StageInputs {
  private readonly labels: string[];
  private readonly blocks: string[];
  private readonly allResponses: string;
  private readonly earlierValues: TemplateValues = {};

  constructor(
    stage: StageDefinition,
    private readonly prompt: string,
    private readonly previous: readonly StageOutput[],
    earlier: ReadonlyMap<string, readonly StageOutput[]>,
  ) {
    // One label per model for the whole stage, so `Response A` is the same model in every variable.
    const labelOf = new Map<string, string>();
    const label = (model: string) => {
      if (!stage.anonymize) return model;
      let found = labelOf.get(model);
      if (!found) {
        found = responseLabel(labelOf.size);
        labelOf.set(model, found);
      }
      return found;
    };
    this.labels = previous.map((output) => label(output.model));
    this.blocks = previous.map((output, index) => block(this.labels[index]!, output.text));
    this.allResponses = this.blocks.join('\n\n');
    for (const [name, outputs] of earlier) {
      this.earlierValues[`stages.${name}`] = outputs
        .map((output) => block(label(output.model), output.text))
        .join('\n\n');
    }
  }

  /** Label → model, for parsing anonymized reviews. */
  labelMap(): Map<string, string> {
    return new Map(this.previous.map((output, index) => [this.labels[index]!, output.model]));
  }

  valuesFor(model: string): TemplateValues {
    const values: TemplateValues = {
      ...this.earlierValues,
      prompt: this.prompt,
      responses: this.allResponses,
    };
    const ownIndex = this.previous.findIndex((output) => output.model === model);
    values.own_response =
      ownIndex >= 0 ? this.previous[ownIndex]!.text : '(no earlier answer from this model)';
    values.other_responses =
      this.blocks.filter((_, index) => index !== ownIndex).join('\n\n') || '(no other answers)';
    return values;
  }
}
