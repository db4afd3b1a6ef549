import type { PatternDefinition } from '../orchestration/patterns/types.js';
import { renderedBytes } from '../orchestration/template.js';
import { jsonBytes } from '../util/json-bytes.js';
import type { ConversationMessage } from './conversation.js';
import { ServiceError } from './errors.js';

/** What one analysis may bring in: its input is held, with its record, for as long as it is retained. */
export interface InputLimits {
  /** Prompt (or conversation), system and metadata together, as UTF-8 JSON (MAX_ANALYSIS_INPUT_BYTES). */
  maxInputBytes: number;
  /** Metadata alone, as UTF-8 JSON (MAX_METADATA_BYTES). */
  maxMetadataBytes: number;
}

export interface AnalysisInputParts {
  prompt?: string | undefined;
  messages?: readonly ConversationMessage[] | undefined;
  system?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/**
 * Refuses an input past its byte budget before anything is stored: metadata
 * over its own limit is a bad request (`invalid`), a whole input over the
 * limit is too large (`too_large`). Both messages name the limit and the
 * variable that sets it.
 */
export function checkInputBudget(input: AnalysisInputParts, limits: InputLimits): void {
  const metadata = jsonBytes(input.metadata);
  if (metadata > limits.maxMetadataBytes) {
    throw new ServiceError(
      'invalid',
      `metadata is ${metadata} bytes as JSON, over the limit of ${limits.maxMetadataBytes} bytes (MAX_METADATA_BYTES): keep large data elsewhere and put a reference to it in metadata.`,
      {
        errors: [
          {
            path: '/metadata',
            message: `at most ${limits.maxMetadataBytes} bytes as JSON (MAX_METADATA_BYTES); got ${metadata}`,
          },
        ],
      },
    );
  }
  const total = jsonBytes(input.prompt) + jsonBytes(input.messages) + jsonBytes(input.system) + metadata;
  const path = input.prompt === undefined && input.messages !== undefined ? '/messages' : '/prompt';
  if (total > limits.maxInputBytes) {
    throw new ServiceError(
      'too_large',
      `The analysis input (prompt or conversation, system and metadata) is ${total} bytes as JSON, over the limit of ${limits.maxInputBytes} bytes (MAX_ANALYSIS_INPUT_BYTES): shorten the prompt or the conversation, or raise MAX_ANALYSIS_INPUT_BYTES.`,
      {
        errors: [
          {
            path,
            message: `prompt or conversation, system and metadata together hold at most ${limits.maxInputBytes} bytes as JSON (MAX_ANALYSIS_INPUT_BYTES); got ${total}`,
          },
        ],
      },
    );
  }
}

/**
 * Refuses a pattern whose templates repeat the prompt into more than the
 * input budget: a custom template may name `{{prompt}}` thousands of times,
 * and each model call would otherwise build and send that text. Counted
 * without building it.
 */
export function checkRenderedPrompt(pattern: PatternDefinition, prompt: string, limits: InputLimits): void {
  for (const [index, stage] of pattern.stages.entries()) {
    // The template's own text is bounded by the pattern limits; what the prompt adds is held to the input budget.
    const bytes = renderedBytes(stage.template, { prompt });
    if (bytes <= limits.maxInputBytes + Buffer.byteLength(stage.template)) continue;
    throw new ServiceError(
      'too_large',
      `Stage "${stage.name}" of pattern "${pattern.name}" renders this prompt into ${bytes} bytes, over the limit of ${limits.maxInputBytes} bytes (MAX_ANALYSIS_INPUT_BYTES): its template repeats {{prompt}}; shorten the prompt or the template's repeats.`,
      {
        errors: [
          {
            path: '/prompt',
            message: `stage ${index + 1} ("${stage.name}") renders at most ${limits.maxInputBytes} bytes (MAX_ANALYSIS_INPUT_BYTES); got ${bytes}`,
          },
        ],
      },
    );
  }
}
