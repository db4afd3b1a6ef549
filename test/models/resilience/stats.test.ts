import { describe, expect, it } from 'vitest';
import { LatencyRing, ModelStats, ModelStatsRegistry } from '../../../src/models/resilience/stats.js';

describe('LatencyRing', () => {
  it('gives the median by nearest rank and keeps only the latest samples', () => {
    const ring = new LatencyRing(3);
    expect(ring.quantile(0.5)).toBeNull();
    ring.push(300);
    ring.push(100);
    ring.push(200);
    expect(ring.quantile(0.5)).toBe(200);
    ring.push(1_000);
    ring.push(2_000);
    // Only 200, 1000 and 2000 are left.
    expect(ring.size).toBe(3);
    expect(ring.quantile(0.5)).toBe(1_000);
    expect(ring.quantile(0)).toBe(200);
    expect(ring.quantile(1)).toBe(2_000);
  });

  it('ignores impossible samples', () => {
    const ring = new LatencyRing(4);
    ring.push(Number.NaN);
    ring.push(-1);
    expect(ring.size).toBe(0);
  });
});

describe('ModelStats', () => {
  it('counts requests and failures; cancellations are requests but not failures', () => {
    const stats = new ModelStats();
    stats.record('success', 120);
    stats.record('success', 80);
    stats.record('failure');
    stats.record('cancelled');
    stats.record('success', 100.4);
    expect(stats.snapshot()).toEqual({ requests: 5, failures: 1, p50LatencyMs: 100 });
  });

  it('keeps one set per model and reports zeros for a model never called', () => {
    const registry = new ModelStatsRegistry();
    registry.record('openai/gpt', 'success', 50);
    registry.record('openai/gpt', 'failure');
    expect(registry.snapshot('openai/gpt')).toEqual({ requests: 2, failures: 1, p50LatencyMs: 50 });
    expect(registry.snapshot('anthropic/claude')).toEqual({ requests: 0, failures: 0, p50LatencyMs: null });
  });
});
