import type { EngineEvent } from './events.js';

/** A progress report, as its event carries it. */
export type ProgressUpdate = Extract<EngineEvent, { type: 'progress' }>['data'];

import type { PatternDefinition } from './patterns/types.js';

/**
 * Progress as completed work over planned work: one unit per model call of an
 * `each` stage and one per `one` stage. Never goes down, and reaches 1 only
 * when the analysis ends.
 */
export class ProgressTracker {
  private readonly stageStart = new Map<string, number>();
  private readonly stageUnits = new Map<string, number>();
  private readonly total: number;
  private done = 0;
  private last = 0;
  private stageDone = 0;

  constructor(
    pattern: PatternDefinition,
    modelCount: number,
    private readonly publish: (progress: ProgressUpdate) => void,
  ) {
    let offset = 0;
    for (const stage of pattern.stages) {
      const units = stage.mode === 'each' ? modelCount : 1;
      this.stageStart.set(stage.name, offset);
      this.stageUnits.set(stage.name, units);
      offset += units;
    }
    this.total = Math.max(1, offset);
  }

  startStage(stage: string, participants: number): void {
    this.done = this.stageStart.get(stage) ?? this.done;
    this.stageDone = 0;
    this.emit(stage, `Stage ${stage} started with ${participants} model${participants === 1 ? '' : 's'}.`, {
      participants,
    });
  }

  modelDone(stage: string, model: string, succeeded: boolean): void {
    const units = this.stageUnits.get(stage) ?? 1;
    this.stageDone = Math.min(units, this.stageDone + 1);
    this.done = (this.stageStart.get(stage) ?? 0) + this.stageDone;
    this.emit(stage, `${model} ${succeeded ? 'answered' : 'failed'} in stage ${stage}.`, {
      model,
      succeeded,
    });
  }

  finishStage(stage: string): void {
    this.done = (this.stageStart.get(stage) ?? 0) + (this.stageUnits.get(stage) ?? 0);
    this.emit(stage, `Stage ${stage} completed.`, {});
  }

  /** A stage finished by an earlier run (resume): counted as done without events. */
  skipStage(stage: string): void {
    this.done = (this.stageStart.get(stage) ?? 0) + (this.stageUnits.get(stage) ?? 0);
    this.last = Math.max(this.last, this.fraction());
  }

  private fraction(): number {
    // Keep the last hundredth for the end of the analysis itself.
    return Math.min(0.99, Math.round((this.done / this.total) * 10_000) / 10_000);
  }

  private emit(stage: string, message: string, details: Record<string, unknown>): void {
    const value = Math.max(this.last, this.fraction());
    this.last = value;
    this.publish({ stage, progress: value, message, details });
  }
}
