import { describe, expect, it } from 'vitest';
import { newAnalysisId } from '../../src/analyses/ids.js';

describe('analysis ids', () => {
  it('are an_ and 96 random bits in base64url, unique across refills of the random pool', () => {
    const ids = Array.from({ length: 1000 }, () => newAnalysisId());
    for (const id of ids) expect(id).toMatch(/^an_[A-Za-z0-9_-]{16}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
