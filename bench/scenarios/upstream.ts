/** The shared fake upstream, driven over IPC: how it answers, what it counted, when each call ran. */
import type { BenchContext } from './context.js';

export interface UpstreamSettings {
  latencyMs: number;
  chunks: number;
  chunkDelayMs: number;
  textChars: number;
  recordTimings: boolean;
}

/**
 * Answers at once, 8 chunks of about 400 characters in all: the upstream of
 * the scenarios that measure Chorus itself rather than waiting on a model.
 */
export const INSTANT_UPSTREAM: UpstreamSettings = {
  latencyMs: 0,
  chunks: 8,
  chunkDelayMs: 0,
  textChars: 400,
  recordTimings: false,
};

export const configureUpstream = (context: BenchContext, settings: UpstreamSettings) =>
  context.upstream.rpc.call('configure', settings);

export interface UpstreamStats {
  started: number;
  completed: number;
  inFlight: number;
  maxInFlight: number;
}

export const upstreamStats = (context: BenchContext) => context.upstream.rpc.call<UpstreamStats>('stats');
export const upstreamTimings = (context: BenchContext) =>
  context.upstream.rpc.call<Record<string, number[][]>>('timings');
