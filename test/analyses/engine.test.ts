/**
 * The engine without a socket: the job path (service → queue → executor →
 * reducer → store) over the simulator, on both stores, with no Fastify and
 * no HTTP. The record it answers is the reduction of the events it stored.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { builtInSimulator, loadConfig } from '../../src/config/index.js';
import { createEngine, type Engine } from '../../src/engine.js';
import { STORES } from '../support/app.js';
import { replay } from '../support/replay.js';

/** The simulator without its pauses: the test waits on events, never on time. */
function instantSimulator() {
  const simulator = builtInSimulator();
  return { ...simulator, models: simulator.models.map((model) => ({ ...model, latencyMs: 0 })) };
}

describe.each(STORES)('the engine alone ($name store)', ({ env }) => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.shutdown(1_000);
    await engine?.close();
    engine = undefined;
  });

  it('runs an analysis to its end; the record is what its stored events reduce to', async () => {
    const config = {
      ...loadConfig({ ...env, LOG_LEVEL: 'silent', REDIS_PREFIX: `chorus-test-${randomUUID()}` }),
      providers: [instantSimulator()],
    };
    engine = await createEngine(config, pino({ level: 'silent' }));
    const accepted = await engine.service.submit('key_engine', { prompt: 'What is a reducer?' });
    expect(accepted.record.status).toBe('queued');
    expect(await engine.service.waitForEnd(accepted.record.id, 20_000)).toBe(true);
    const record = await engine.service.get('key_engine', accepted.record.id);
    expect(record).toMatchObject({ status: 'succeeded', pattern: 'standard', error: null });
    expect(record!.result?.text.length).toBeGreaterThan(0);
    expect(record!.stages.map((stage) => stage.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // Another key sees nothing.
    expect(await engine.service.get('key_other', accepted.record.id)).toBeUndefined();

    const events = (await engine.store.readEvents(record!.id, 0)).map((stored) => {
      const [, type, data] = /^id: \d+\nevent: (.+)\ndata: (.*)\n\n$/s.exec(stored.frame)!;
      return { event: type!, data: JSON.parse(data!) as Record<string, unknown> };
    });
    expect(events.at(-1)?.event).toBe('analysis.completed');
    expect(replay(record!, events)).toEqual(record);
  });
});
