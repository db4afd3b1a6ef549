import type { ModelRegistry } from '../models/registry.js';
import { fallbackOrder } from '../models/selector.js';
import type { PatternDefinition } from '../orchestration/patterns/types.js';
import { previewPattern, type StagePreview } from '../orchestration/preview.js';
import { ServiceError } from './errors.js';
import { checkInputBudget, type InputLimits } from './input-budget.js';
import { selectForRequest } from './selection.js';

export interface PreviewInput {
  prompt: string;
  models?: string[] | undefined;
  synthesisModel?: string | undefined;
}

export interface PreviewLimits extends InputLimits {
  /** Most UTF-8 bytes a preview's prompts may hold together (MAX_PREVIEW_BYTES). */
  maxPreviewBytes: number;
}

/**
 * The prompts an analysis of `pattern` would send for this input, on the
 * models it would select, without calling a model. Refused as an analysis
 * would be (input budget, unknown models), and past MAX_PREVIEW_BYTES.
 */
export function previewAnalysis(
  registry: ModelRegistry,
  pattern: PatternDefinition,
  input: PreviewInput,
  limits: PreviewLimits,
): StagePreview[] {
  checkInputBudget({ prompt: input.prompt }, limits);
  const selection = selectForRequest(registry, input.models, input.synthesisModel);
  const outcome = previewPattern(
    pattern,
    input.prompt,
    { models: selection.models, fallbackOrder: fallbackOrder(registry, selection) },
    limits.maxPreviewBytes,
  );
  if (!outcome.ok) {
    const max = limits.maxPreviewBytes;
    throw new ServiceError(
      'too_large',
      `The prompts of this preview would hold ${outcome.bytes} bytes, over the limit of ${max} bytes (MAX_PREVIEW_BYTES): shorten the prompt, select fewer models, or raise MAX_PREVIEW_BYTES.`,
      {
        errors: [
          {
            path: '/prompt',
            message: `the rendered prompts hold at most ${max} bytes (MAX_PREVIEW_BYTES); these would hold ${outcome.bytes}`,
          },
        ],
      },
    );
  }
  return outcome.stages;
}
