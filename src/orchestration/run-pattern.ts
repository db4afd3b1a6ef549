import type { ModelCaller } from '../models/call-model.js';
import type { CallSettings } from '../models/settings.js';
import type { AnalysisResult, EngineEvent, ErrorInfo, RunRequest, StageStatus } from './events.js';
import type { PatternDefinition, StageDefinition } from './patterns/types.js';
import { ProgressTracker } from './progress.js';
import { StageInputs, type StageOutput, stageParticipants } from './stage-inputs.js';
import { renderTemplate } from './template.js';

export interface PatternRunInput {
  pattern: PatternDefinition;
  job: RunRequest;
  /** The models of the analysis, best first. */
  models: readonly string[];
  /** What the analysis has cost so far, in US dollars (what its events add up to). */
  spentUsd(): number;
  /** The order a single-model stage tries its models: synthesis model first. */
  fallbackOrder: readonly string[];
  settingsFor(modelId: string): CallSettings;
  caller: ModelCaller;
  emit(event: EngineEvent): void;
  signal: AbortSignal;
  /** Parses the outputs of a stage marked `parse` (the council's rankings); also for stages completed before a resume. */
  afterStage?: ((stage: StageDefinition, outputs: StageOutput[], inputs: StageInputs) => void) | undefined;
  /** Resume: the stages an earlier run completed, by stage name. */
  completed?: ReadonlyMap<string, CompletedStage> | undefined;
}

/** A stage an earlier run completed: how it ended and the outputs that pass on from it. */
export interface CompletedStage {
  status: 'succeeded' | 'skipped';
  outputs: StageOutput[];
}

/** A model call as the stage sees it. */
type StageCallOutcome = { ok: true; text: string } | { ok: false; error: ErrorInfo };

export type PatternRunEnd =
  | { status: 'succeeded'; result: AnalysisResult | null }
  | { status: 'failed'; error: ErrorInfo }
  | { status: 'cancelled' };

/**
 * Walks the pattern stage by stage. Every change is an event; the outcome
 * carries what no event does (the result).
 */
export async function runPattern(input: PatternRunInput): Promise<PatternRunEnd> {
  const { pattern, job, emit, signal } = input;
  const models = input.models;
  const progress = new ProgressTracker(pattern, models.length, (data) => emit({ type: 'progress', data }));
  const earlier = new Map<string, StageOutput[]>();
  let previous: StageOutput[] = [];
  let lastOne: { output: StageOutput; fallbackFrom: string | null } | undefined;
  let lastStatus: StageStatus = 'pending';

  for (let index = 0; index < pattern.stages.length; index++) {
    const stage = pattern.stages[index]!;
    const finished = input.completed?.get(stage.name);
    if (finished) {
      // A stage an earlier run completed is not run again, but what was derived
      // from its outputs (the council's ranking) is derived again.
      const done = finished.outputs;
      lastStatus = finished.status;
      if (lastStatus === 'succeeded' && input.afterStage) {
        input.afterStage(stage, done, new StageInputs(stage, job.prompt, previous, earlier));
      }
      previous = done;
      earlier.set(stage.name, done);
      progress.skipStage(stage.name);
      continue;
    }
    if (signal.aborted) return { status: 'cancelled' };
    const inputs = new StageInputs(stage, job.prompt, previous, earlier);
    const participants = stageParticipants(stage, index, models, previous, input.fallbackOrder);
    emit({ type: 'stage.started', data: { stage: stage.name, index, models: [...participants] } });
    progress.startStage(stage.name, participants.length);

    const call = (modelId: string) => callOne(input, stage, inputs, modelId, progress);
    let outputs: StageOutput[] = [];
    let failedCount = 0;
    let budgetHit: ErrorInfo | undefined;

    if (stage.mode === 'each') {
      const outcomes = await Promise.all(participants.map(call));
      outcomes.forEach((outcome, position) => {
        if (outcome.ok) outputs.push({ model: participants[position]!, text: outcome.text });
        else {
          failedCount++;
          if (outcome.error.code === 'budget_exceeded') budgetHit = outcome.error;
        }
      });
    } else {
      for (const modelId of input.fallbackOrder) {
        if (signal.aborted) break;
        const outcome = await call(modelId);
        if (outcome.ok) {
          outputs = [{ model: modelId, text: outcome.text }];
          lastOne = {
            output: outputs[0]!,
            fallbackFrom: modelId === input.fallbackOrder[0] ? null : input.fallbackOrder[0]!,
          };
          break;
        }
        failedCount++;
        if (outcome.error.code === 'budget_exceeded') {
          budgetHit = outcome.error;
          break;
        }
      }
    }
    if (signal.aborted) return { status: 'cancelled' };
    const completeStage = (status: StageStatus, reason: string | null) => {
      lastStatus = status;
      emit({
        type: 'stage.completed',
        data: { stage: stage.name, index, succeeded: outputs.length, failed: failedCount, status, reason },
      });
    };
    if (budgetHit) {
      completeStage('failed', budgetHit.message);
      return { status: 'failed', error: budgetHit };
    }

    const quorum = stage.mode === 'one' ? 1 : (stage.minResponses ?? job.options.minResponses ?? 1);
    if (outputs.length >= quorum) {
      completeStage('succeeded', null);
      input.afterStage?.(stage, outputs, inputs);
      previous = outputs;
      earlier.set(stage.name, outputs);
    } else if (index === 0) {
      const reason = `Only ${outputs.length} of ${participants.length} models answered; ${quorum} needed (minResponses).`;
      completeStage('failed', reason);
      return {
        status: 'failed',
        error: { code: 'quorum_not_met', message: `Stage "${stage.name}": ${reason}` },
      };
    } else {
      const reason =
        stage.mode === 'one'
          ? `Every model failed (${input.fallbackOrder.join(', ')}); the previous stage's output stands.`
          : `Only ${outputs.length} of ${participants.length} models answered; ${quorum} needed (minResponses). The previous stage's outputs pass on.`;
      completeStage('skipped', reason);
      earlier.set(stage.name, previous);
      if (stage.mode === 'one') lastOne = undefined;
    }
    progress.finishStage(stage.name);
  }

  const result = buildResult(pattern, lastStatus, previous, lastOne, input.fallbackOrder[0]!);
  return { status: 'succeeded', result };
}

async function callOne(
  input: PatternRunInput,
  stage: StageDefinition,
  inputs: StageInputs,
  modelId: string,
  progress: ProgressTracker,
): Promise<StageCallOutcome> {
  const { job, emit } = input;
  const maxCost = job.options.maxCostUsd;
  const spent = input.spentUsd();
  if (maxCost !== undefined && spent >= maxCost) {
    const error = budgetError(spent, maxCost);
    emit({
      type: 'model.failed',
      data: { stage: stage.name, model: modelId, error, willRetry: false, attempt: 0, latencyMs: 0 },
    });
    return { ok: false, error };
  }
  const prompt = renderTemplate(stage.template, inputs.valuesFor(modelId));
  const outcome = await input.caller.call({
    owner: job.owner,
    analysisId: job.id,
    modelId,
    system: job.system,
    history: job.history,
    prompt,
    settings: input.settingsFor(modelId),
    timeoutMs: job.options.timeoutMs,
    cache: job.options.cache ?? true,
    signal: input.signal,
    hooks: {
      onAttempt: (attempt) =>
        emit({ type: 'model.started', data: { stage: stage.name, model: modelId, attempt } }),
      onDelta: (text, attempt) =>
        emit({ type: 'model.delta', data: { stage: stage.name, model: modelId, attempt, text } }),
      onRetry: (error, attempt) =>
        emit({
          type: 'model.failed',
          data: { stage: stage.name, model: modelId, error: error.toJSON(), willRetry: true, attempt },
        }),
    },
  });
  if (input.signal.aborted) return outcome.ok ? outcome : { ok: false, error: outcome.error.toJSON() };
  if (outcome.ok) {
    emit({
      type: 'model.completed',
      data: {
        stage: stage.name,
        model: modelId,
        text: outcome.text,
        latencyMs: outcome.latencyMs,
        usage: outcome.usage,
        cached: outcome.cached,
        attempts: outcome.attempts,
        costUsd: outcome.costUsd,
      },
    });
  } else {
    emit({
      type: 'model.failed',
      data: {
        stage: stage.name,
        model: modelId,
        error: outcome.error.toJSON(),
        willRetry: false,
        attempt: outcome.attempts,
        latencyMs: outcome.latencyMs,
      },
    });
  }
  progress.modelDone(stage.name, modelId, outcome.ok);
  return outcome.ok ? outcome : { ok: false, error: outcome.error.toJSON() };
}

function budgetError(spent: number, limit: number): ErrorInfo {
  return {
    code: 'budget_exceeded',
    message: `The analysis has cost $${spent.toFixed(6)}, reaching options.maxCostUsd ($${limit}); no further model calls start.`,
  };
}

function buildResult(
  pattern: PatternDefinition,
  lastStatus: StageStatus,
  previous: StageOutput[],
  lastOne: { output: StageOutput; fallbackFrom: string | null } | undefined,
  synthesisModel: string,
): AnalysisResult | null {
  const last = pattern.stages.at(-1)!;
  if (last.mode === 'one' && lastStatus === 'succeeded' && lastOne) {
    return {
      text: lastOne.output.text,
      model: lastOne.output.model,
      fallbackFrom: lastOne.fallbackFrom,
      degraded: false,
    };
  }
  const chosen = previous.find((output) => output.model === synthesisModel) ?? previous[0];
  if (!chosen) return null;
  return {
    text: chosen.text,
    model: chosen.model,
    fallbackFrom: last.mode === 'one' ? synthesisModel : null,
    degraded: last.mode === 'one',
  };
}
