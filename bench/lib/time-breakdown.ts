/**
 * Where an analysis's time went, from the upstream's timings of its calls:
 * its critical path (each stage's slowest call, summed) and what the client
 * saw beyond it.
 */

/**
 * One analysis's calls (`[start, end]` as the upstream timed them) split into
 * its stages. Stage k+1 starts only after every call of stage k has ended, so
 * sorted by arrival the calls fall into stages of the known sizes (`[m, m, 1]`
 * for `standard` with m models). Undefined when the count does not match.
 */
function stagesOf(calls: number[][], stageSizes: number[]): number[][][] | undefined {
  const expected = stageSizes.reduce((sum, size) => sum + size, 0);
  if (calls.length !== expected) return undefined;
  const sorted = [...calls].sort((a, b) => a[0]! - b[0]!);
  const stages: number[][][] = [];
  let index = 0;
  for (const size of stageSizes) {
    stages.push(sorted.slice(index, index + size));
    index += size;
  }
  return stages;
}

const slowestOf = (stage: number[][]) => Math.max(...stage.map(([start, end]) => end! - start!));

/** The sum over stages of each stage's slowest call (see stagesOf). */
export function criticalPathMs(calls: number[][], stageSizes: number[]): number | undefined {
  return stagesOf(calls, stageSizes)?.reduce((total, stage) => total + slowestOf(stage), 0);
}

/**
 * Where an analysis's time beyond its critical path went, from the client's
 * send and receive times and the upstream's call timings (both epoch
 * milliseconds on one machine): before the first call arrived (`leadIn`:
 * request, validation, start), within stages beyond their slowest call
 * (`stageSkew`: calls sent or read one after another), between one stage's
 * last answer and the next stage's first call (`stageGaps`), and after the
 * last answer (`tail`: finishing and the response). They add up to
 * end-to-end minus critical path.
 */
export function timeBreakdown(
  calls: number[][],
  stageSizes: number[],
  sentAt: number,
  receivedAt: number,
): { leadInMs: number; stageSkewMs: number; stageGapsMs: number; tailMs: number } | undefined {
  const stages = stagesOf(calls, stageSizes);
  if (!stages) return undefined;
  let stageSkewMs = 0;
  let stageGapsMs = 0;
  let previousEnd: number | undefined;
  for (const stage of stages) {
    const first = Math.min(...stage.map((call) => call[0]!));
    const last = Math.max(...stage.map((call) => call[1]!));
    stageSkewMs += last - first - slowestOf(stage);
    if (previousEnd !== undefined) stageGapsMs += first - previousEnd;
    previousEnd = last;
  }
  return {
    leadInMs: stages[0]![0]![0]! - sentAt,
    stageSkewMs,
    stageGapsMs,
    tailMs: receivedAt - previousEnd!,
  };
}
