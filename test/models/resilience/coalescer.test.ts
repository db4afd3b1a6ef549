import { describe, expect, it, vi } from 'vitest';
import { Coalescer, type SharedExecutionContext } from '../../../src/models/resilience/coalescer.js';
import { ProviderError } from '../../../src/providers/errors.js';
import { type Deferred, deferred, flushMicrotasks, track } from './deferred.js';

/** A shared execution the test drives by hand. */
function controllable(): {
  execute: (context: SharedExecutionContext) => Promise<string>;
  calls: () => number;
  context: () => SharedExecutionContext;
  result: Deferred<string>;
} {
  const result = deferred<string>();
  let count = 0;
  let latest: SharedExecutionContext | undefined;
  return {
    execute: (context) => {
      count += 1;
      latest = context;
      return result.promise;
    },
    calls: () => count,
    context: () => {
      if (!latest) throw new Error('not started');
      return latest;
    },
    result,
  };
}

describe('Coalescer', () => {
  it('runs N concurrent identical calls once and gives every caller the result', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    const callers = Array.from({ length: 5 }, () => coalescer.run('k', shared.execute));
    expect(shared.calls()).toBe(1);
    expect(coalescer.callers('k')).toBe(5);
    shared.result.resolve('answer');
    await expect(Promise.all(callers)).resolves.toEqual(Array(5).fill('answer'));
    expect(coalescer.stats()).toEqual({ executions: 1, joins: 4, inFlight: 0 });
    expect(coalescer.has('k')).toBe(false);
  });

  it('runs different keys separately', () => {
    const coalescer = new Coalescer<string>();
    const first = controllable();
    const second = controllable();
    void coalescer.run('a', first.execute);
    void coalescer.run('b', second.execute);
    expect(first.calls()).toBe(1);
    expect(second.calls()).toBe(1);
  });

  it('starts afresh once the shared call has settled', async () => {
    const coalescer = new Coalescer<string>();
    const first = controllable();
    const done = coalescer.run('k', first.execute);
    first.result.resolve('one');
    await done;
    const second = controllable();
    const again = coalescer.run('k', second.execute);
    expect(second.calls()).toBe(1);
    second.result.resolve('two');
    await expect(again).resolves.toBe('two');
  });

  it('gives every caller the shared error', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    const a = coalescer.run('k', shared.execute);
    const b = coalescer.run('k', shared.execute);
    const error = new ProviderError({ code: 'overloaded', message: 'busy' });
    shared.result.reject(error);
    await expect(a).rejects.toBe(error);
    await expect(b).rejects.toBe(error);
  });

  it('detaches a caller that cancels while the shared call goes on for the others', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    const leaving = new AbortController();
    const left = coalescer.run('k', shared.execute, { signal: leaving.signal });
    const stays = coalescer.run('k', shared.execute, { signal: new AbortController().signal });
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'cancelled' });
    expect(shared.context().signal.aborted).toBe(false);
    expect(coalescer.callers('k')).toBe(1);
    shared.result.resolve('answer');
    await expect(stays).resolves.toBe('answer');
  });

  it('aborts the shared call only when every caller has left', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const calls = controllers.map((controller) =>
      coalescer.run('k', shared.execute, { signal: controller.signal }).catch((error: unknown) => error),
    );
    controllers[0]?.abort();
    controllers[1]?.abort();
    expect(shared.context().signal.aborted).toBe(false);
    controllers[2]?.abort();
    expect(shared.context().signal.aborted).toBe(true);
    for (const outcome of await Promise.all(calls)) expect(outcome).toMatchObject({ code: 'cancelled' });
    // The abandoned key is free at once: an identical call now starts a new execution.
    expect(coalescer.has('k')).toBe(false);
    const fresh = controllable();
    void coalescer.run('k', fresh.execute);
    expect(fresh.calls()).toBe(1);
    // The old execution settling late does not disturb the new one.
    shared.result.reject(new Error('aborted'));
    await flushMicrotasks();
    expect(coalescer.has('k')).toBe(true);
  });

  it('rejects at once, joining nothing, when the signal is already aborted', async () => {
    const coalescer = new Coalescer<string>();
    const execute = vi.fn(() => Promise.resolve('x'));
    await expect(coalescer.run('k', execute, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'cancelled',
    });
    expect(execute).not.toHaveBeenCalled();
  });

  it('fans deltas out to every caller and replays the text so far to a late joiner', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    const early: string[] = [];
    const late: string[] = [];
    const first = coalescer.run('k', shared.execute, { onDelta: (text) => early.push(text) });
    shared.context().onDelta('Hel');
    shared.context().onDelta('lo');
    const second = coalescer.run('k', shared.execute, { onDelta: (text) => late.push(text) });
    shared.context().onDelta(' world');
    shared.result.resolve('Hello world');
    await Promise.all([first, second]);
    expect(early).toEqual(['Hel', 'lo', ' world']);
    expect(late).toEqual(['Hello', ' world']);
    expect(late.join('')).toBe('Hello world');
  });

  it('tells callers when the shared call restarts, and replays only text since the restart', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    let firstText = '';
    const restarts = vi.fn(() => {
      firstText = '';
    });
    const first = coalescer.run('k', shared.execute, {
      onDelta: (text) => {
        firstText += text;
      },
      onRestart: restarts,
    });
    shared.context().onDelta('partial ans');
    shared.context().onRestart();
    expect(restarts).toHaveBeenCalledTimes(1);
    shared.context().onDelta('Full');
    let lateText = '';
    const late = coalescer.run('k', shared.execute, {
      onDelta: (text) => {
        lateText += text;
      },
    });
    shared.context().onDelta(' answer');
    shared.result.resolve('Full answer');
    await Promise.all([first, late]);
    expect(firstText).toBe('Full answer');
    expect(lateText).toBe('Full answer');
  });

  it('a caller whose listener throws is detached with that error; the others go on', async () => {
    const coalescer = new Coalescer<string>();
    const shared = controllable();
    const boom = new Error('listener broke');
    const broken = track(
      coalescer.run('k', shared.execute, {
        onDelta: () => {
          throw boom;
        },
      }),
    );
    const fine: string[] = [];
    const healthy = coalescer.run('k', shared.execute, { onDelta: (text) => fine.push(text) });
    shared.context().onDelta('a');
    await flushMicrotasks();
    expect(broken.settled()).toBe('rejected');
    expect(broken.error()).toBe(boom);
    expect(shared.context().signal.aborted).toBe(false);
    shared.context().onDelta('b');
    shared.result.resolve('ab');
    await expect(healthy).resolves.toBe('ab');
    expect(fine).toEqual(['a', 'b']);
  });

  it('turns a synchronous throw of the execution into a rejection for every caller', async () => {
    const coalescer = new Coalescer<string>();
    const error = new Error('sync');
    await expect(
      coalescer.run('k', () => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(coalescer.has('k')).toBe(false);
  });
});
