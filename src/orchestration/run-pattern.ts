import type {
  AnalysisEventPayload,
  AnalysisJob,
  AnalysisRecord,
  ErrorInfo,
  ModelResponse,
  StageRecord,
} from '../domain/analysis.js';
import type { ModelCaller, ModelCallOutcome } from '../models/call-model.js';
import type { CallSettings } from '../models/settings.js';
import { ProviderError } from '../providers/errors.js';
import type { PatternDefinition, StageDefinition } from './patterns/types.js';
import { ProgressTracker } from './progress.js';
import { StageInputs, type StageOutput } from './stage-inputs.js';
import { renderTemplate } from './template.js';

export interface PatternRunInput {
  pattern: PatternDefinition;
  /** The record the run fills in; events describe every change. */
  record: AnalysisRecord;
  job: AnalysisJob;
  /** The order a single-model stage tries its models: synthesis model first. */
  fallbackOrder: readonly string[];
  settingsFor(modelId: string): CallSettings;
  caller: ModelCaller;
  emit(event: AnalysisEventPayload): void;
  signal: AbortSignal;
  /** Parses the outputs of a stage marked `parse` (the council's rankings); also for stages completed before a resume. */
  afterStage?: ((stage: StageDefinition, outputs: StageOutput[], inputs: StageInputs) => void) | undefined;
  /** Resume: outputs of stages completed by an earlier run, by stage name. */
  completed?: ReadonlyMap<string, StageOutput[]> | undefined;
}

export type PatternRunEnd =
  | { status: 'succeeded' }
  | { status: 'failed'; error: ErrorInfo }
  | { status: 'cancelled' };

const now = () => new Date().toISOString();

/** Walks the pattern stage by stage; fills `record.stages`, `usage` and `result`. */
export async function runPattern(input: PatternRunInput): Promise<PatternRunEnd> {
  const { pattern, record, job, emit, signal } = input;
  const progress = new ProgressTracker(pattern, record.models.length, (update) => {
    record.progress = update;
    emit({
      type: 'progress',
      data: {
        stage: update.stage,
        progress: update.progress,
        message: update.message,
        details: update.details,
      },
    });
  });
  const earlier = new Map<string, StageOutput[]>();
  let previous: StageOutput[] = [];
  let lastOne: { output: StageOutput; fallbackFrom: string | null } | undefined;

  for (let index = 0; index < pattern.stages.length; index++) {
    const stage = pattern.stages[index]!;
    const stageRecord = record.stages[index]!;
    const done = input.completed?.get(stage.name);
    if (done) {
      // A stage an earlier run completed is not run again, but what was derived
      // from its outputs (the council's ranking) is derived again.
      if (stageRecord.status === 'succeeded' && input.afterStage) {
        input.afterStage(stage, done, new StageInputs(stage, job.prompt, previous, earlier));
      }
      previous = done;
      earlier.set(stage.name, done);
      progress.skipStage(stage.name);
      continue;
    }
    if (signal.aborted) return { status: 'cancelled' };
    const inputs = new StageInputs(stage, job.prompt, previous, earlier);
    const participants =
      stage.mode === 'one'
        ? [input.fallbackOrder[0]!]
        : index === 0 || previous.length === 0
          ? record.models
          : previous.map((output) => output.model);
    stageRecord.status = 'running';
    stageRecord.startedAt = now();
    emit({ type: 'stage.started', data: { stage: stage.name, index, models: [...participants] } });
    progress.startStage(stage.name, participants.length);

    const call = (modelId: string) => callOne(input, stage, stageRecord, inputs, modelId, progress);
    let outputs: StageOutput[] = [];
    let failedCount = 0;
    let budgetHit: ErrorInfo | undefined;

    if (stage.mode === 'each') {
      const outcomes = await Promise.all(participants.map(call));
      outcomes.forEach((outcome, position) => {
        if (outcome.ok) outputs.push({ model: participants[position]!, text: outcome.text });
        else {
          failedCount++;
          if (outcome.error.code === 'budget_exceeded') budgetHit = outcome.error.toJSON();
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
          budgetHit = outcome.error.toJSON();
          break;
        }
      }
    }
    if (signal.aborted) return { status: 'cancelled' };
    // Responses are listed in the order of the stage's models, whatever order they finished in.
    const order = new Map(participants.map((model, position) => [model, position]));
    if (stage.mode === 'each') {
      stageRecord.responses.sort((a, b) => (order.get(a.model) ?? 0) - (order.get(b.model) ?? 0));
    }
    if (budgetHit) {
      finishStage(stageRecord, 'failed', budgetHit.message);
      emitStageCompleted(emit, stage, index, outputs.length, failedCount, stageRecord);
      return { status: 'failed', error: budgetHit };
    }

    const quorum = stage.mode === 'one' ? 1 : (stage.minResponses ?? job.options.minResponses ?? 1);
    if (outputs.length >= quorum) {
      finishStage(stageRecord, 'succeeded', null);
      input.afterStage?.(stage, outputs, inputs);
      previous = outputs;
      earlier.set(stage.name, outputs);
    } else if (index === 0) {
      const reason = `Only ${outputs.length} of ${participants.length} models answered; ${quorum} needed (minResponses).`;
      finishStage(stageRecord, 'failed', reason);
      emitStageCompleted(emit, stage, index, outputs.length, failedCount, stageRecord);
      return {
        status: 'failed',
        error: { code: 'quorum_not_met', message: `Stage "${stage.name}": ${reason}` },
      };
    } else {
      const reason =
        stage.mode === 'one'
          ? `Every model failed (${input.fallbackOrder.join(', ')}); the previous stage's output stands.`
          : `Only ${outputs.length} of ${participants.length} models answered; ${quorum} needed (minResponses). The previous stage's outputs pass on.`;
      finishStage(stageRecord, 'skipped', reason);
      earlier.set(stage.name, previous);
      if (stage.mode === 'one') lastOne = undefined;
    }
    emitStageCompleted(emit, stage, index, outputs.length, failedCount, stageRecord);
    progress.finishStage(stage.name);
  }

  record.result = buildResult(pattern, record, previous, lastOne, input.fallbackOrder[0]!);
  return { status: 'succeeded' };
}

async function callOne(
  input: PatternRunInput,
  stage: StageDefinition,
  stageRecord: StageRecord,
  inputs: StageInputs,
  modelId: string,
  progress: ProgressTracker,
): Promise<ModelCallOutcome> {
  const { record, job, emit } = input;
  const maxCost = job.options.maxCostUsd;
  if (maxCost !== undefined && record.usage.costUsd >= maxCost) {
    const outcome: ModelCallOutcome = {
      ok: false,
      error: budgetError(record.usage.costUsd, maxCost),
      latencyMs: 0,
      attempts: 0,
    };
    pushResponse(stageRecord, modelId, outcome);
    return outcome;
  }
  const prompt = renderTemplate(stage.template, inputs.valuesFor(modelId));
  const outcome = await input.caller.call({
    owner: job.owner,
    analysisId: job.id,
    modelId,
    system: job.system,
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
  if (input.signal.aborted) return outcome;
  pushResponse(stageRecord, modelId, outcome);
  if (outcome.ok) {
    record.usage.inputTokens += outcome.usage.inputTokens;
    record.usage.outputTokens += outcome.usage.outputTokens;
    record.usage.costUsd += outcome.costUsd;
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
      },
    });
  }
  progress.modelDone(stage.name, modelId, outcome.ok);
  return outcome;
}

function budgetError(spent: number, limit: number): ProviderError {
  return new ProviderError({
    code: 'budget_exceeded',
    message: `The analysis has cost $${spent.toFixed(6)}, reaching options.maxCostUsd ($${limit}); no further model calls start.`,
    retryable: false,
  });
}

function pushResponse(stageRecord: StageRecord, modelId: string, outcome: ModelCallOutcome): void {
  const response: ModelResponse = outcome.ok
    ? {
        model: modelId,
        status: 'succeeded',
        text: outcome.text,
        error: null,
        latencyMs: outcome.latencyMs,
        attempts: outcome.attempts,
        cached: outcome.cached,
        usage: outcome.usage,
        costUsd: outcome.costUsd,
      }
    : {
        model: modelId,
        status: 'failed',
        text: null,
        error: outcome.error.toJSON(),
        latencyMs: outcome.latencyMs,
        attempts: outcome.attempts,
        cached: false,
        usage: { inputTokens: 0, outputTokens: 0 },
        costUsd: 0,
      };
  stageRecord.responses.push(response);
}

function finishStage(stageRecord: StageRecord, status: StageRecord['status'], reason: string | null): void {
  stageRecord.status = status;
  stageRecord.reason = reason;
  stageRecord.completedAt = now();
}

function emitStageCompleted(
  emit: PatternRunInput['emit'],
  stage: StageDefinition,
  index: number,
  succeeded: number,
  failed: number,
  stageRecord: StageRecord,
): void {
  emit({
    type: 'stage.completed',
    data: {
      stage: stage.name,
      index,
      succeeded,
      failed,
      status: stageRecord.status,
      reason: stageRecord.reason,
    },
  });
}

function buildResult(
  pattern: PatternDefinition,
  record: AnalysisRecord,
  previous: StageOutput[],
  lastOne: { output: StageOutput; fallbackFrom: string | null } | undefined,
  synthesisModel: string,
): AnalysisRecord['result'] {
  const last = pattern.stages.at(-1)!;
  const lastRecord = record.stages.at(-1)!;
  if (last.mode === 'one' && lastRecord.status === 'succeeded' && lastOne) {
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
