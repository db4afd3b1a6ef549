import { describe, expect, it, vi } from 'vitest';
import { SharedCalls, type SharedExecution } from '../../src/models/shared-calls.js';
import { ProviderError } from '../../src/providers/errors.js';
import { type Deferred, deferred, flushMicrotasks, track } from './resilience/deferred.js';

/** A shared execution the test drives by hand. */
function controllable(): {
  execute: (context: SharedExecution) => Promise<string>;
  calls: () => number;
  context: () => SharedExecution;
  result: Deferred<string>;
} {
  const result = deferred<string>();
  let count = 0;
  let latest: SharedExecution | undefined;
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

describe('SharedCalls: one execution for identical calls in flight', () => {
  it('runs N concurrent identical calls once and gives every caller the result', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const callers = Array.from({ length: 5 }, () => calls.run('k', shared.execute));
    expect(shared.calls()).toBe(1);
    expect(calls.callers('k')).toBe(5);
    shared.result.resolve('answer');
    await expect(Promise.all(callers)).resolves.toEqual(Array(5).fill('answer'));
    expect(calls.stats()).toEqual({ executions: 1, joins: 4, inFlight: 0 });
    expect(calls.has('k')).toBe(false);
  });

  it('runs different keys separately', () => {
    const calls = new SharedCalls<string>();
    const first = controllable();
    const second = controllable();
    void calls.run('a', first.execute);
    void calls.run('b', second.execute);
    expect(first.calls()).toBe(1);
    expect(second.calls()).toBe(1);
  });

  it('starts afresh once the shared call has settled', async () => {
    const calls = new SharedCalls<string>();
    const first = controllable();
    const done = calls.run('k', first.execute);
    first.result.resolve('one');
    await done;
    const second = controllable();
    const again = calls.run('k', second.execute);
    expect(second.calls()).toBe(1);
    second.result.resolve('two');
    await expect(again).resolves.toBe('two');
  });

  it('gives every caller the shared error', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const a = calls.run('k', shared.execute);
    const b = calls.run('k', shared.execute);
    const error = new ProviderError({ code: 'overloaded', message: 'busy' });
    shared.result.reject(error);
    await expect(a).rejects.toBe(error);
    await expect(b).rejects.toBe(error);
  });

  it('detaches a caller that cancels while the shared call goes on for the others', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const leaving = new AbortController();
    const left = calls.run('k', shared.execute, {}, leaving.signal);
    const stays = calls.run('k', shared.execute, {}, new AbortController().signal);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'cancelled' });
    expect(shared.context().signal.aborted).toBe(false);
    expect(calls.callers('k')).toBe(1);
    shared.result.resolve('answer');
    await expect(stays).resolves.toBe('answer');
  });

  it('aborts the shared call only when every caller has left', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const joined = controllers.map((controller) =>
      calls.run('k', shared.execute, {}, controller.signal).catch((error: unknown) => error),
    );
    controllers[0]?.abort();
    controllers[1]?.abort();
    expect(shared.context().signal.aborted).toBe(false);
    controllers[2]?.abort();
    expect(shared.context().signal.aborted).toBe(true);
    for (const outcome of await Promise.all(joined)) expect(outcome).toMatchObject({ code: 'cancelled' });
    // The abandoned key is free at once: an identical call now starts a new execution.
    expect(calls.has('k')).toBe(false);
    const fresh = controllable();
    void calls.run('k', fresh.execute);
    expect(fresh.calls()).toBe(1);
    // The old execution settling late does not disturb the new one.
    shared.result.reject(new Error('aborted'));
    await flushMicrotasks();
    expect(calls.has('k')).toBe(true);
  });

  it('rejects at once, joining nothing, when the signal is already aborted', async () => {
    const calls = new SharedCalls<string>();
    const execute = vi.fn(() => Promise.resolve('x'));
    await expect(calls.run('k', execute, {}, AbortSignal.abort())).rejects.toMatchObject({
      code: 'cancelled',
    });
    expect(execute).not.toHaveBeenCalled();
  });

  it('fans deltas out to every caller and replays the text so far to a late joiner', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const early: string[] = [];
    const late: string[] = [];
    const first = calls.run('k', shared.execute, { onDelta: (text: string) => early.push(text) });
    shared.context().delta('Hel');
    shared.context().delta('lo');
    const second = calls.run('k', shared.execute, { onDelta: (text: string) => late.push(text) });
    shared.context().delta(' world');
    shared.result.resolve('Hello world');
    await Promise.all([first, second]);
    expect(early).toEqual(['Hel', 'lo', ' world']);
    expect(late).toEqual(['Hello', ' world']);
    expect(late.join('')).toBe('Hello world');
  });

  it('tells callers when the shared call restarts, and replays only text since the restart', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    let firstText = '';
    const restarts = vi.fn(() => {
      firstText = '';
    });
    const first = calls.run('k', shared.execute, {
      onDelta: (text: string) => {
        firstText += text;
      },
      onRetry: restarts,
    });
    shared.context().delta('partial ans');
    shared.context().retrying(new ProviderError({ code: 'overloaded', message: 'busy' }), 1, 0);
    expect(restarts).toHaveBeenCalledTimes(1);
    shared.context().delta('Full');
    let lateText = '';
    const late = calls.run('k', shared.execute, {
      onDelta: (text: string) => {
        lateText += text;
      },
    });
    shared.context().delta(' answer');
    shared.result.resolve('Full answer');
    await Promise.all([first, late]);
    expect(firstText).toBe('Full answer');
    expect(lateText).toBe('Full answer');
  });

  it('a caller whose listener throws is detached with that error; the others go on', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const boom = new Error('listener broke');
    const broken = track(
      calls.run('k', shared.execute, {
        onDelta: () => {
          throw boom;
        },
      }),
    );
    const fine: string[] = [];
    const healthy = calls.run('k', shared.execute, { onDelta: (text: string) => fine.push(text) });
    shared.context().delta('a');
    await flushMicrotasks();
    expect(broken.settled()).toBe('rejected');
    expect(broken.error()).toBe(boom);
    expect(shared.context().signal.aborted).toBe(false);
    shared.context().delta('b');
    shared.result.resolve('ab');
    await expect(healthy).resolves.toBe('ab');
    expect(fine).toEqual(['a', 'b']);
  });

  it('turns a synchronous throw of the execution into a rejection for every caller', async () => {
    const calls = new SharedCalls<string>();
    const error = new Error('sync');
    await expect(
      calls.run('k', () => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(calls.has('k')).toBe(false);
  });

  it('tells every caller which attempt is under way; a late joiner hears the current one first', async () => {
    const calls = new SharedCalls<string>();
    const shared = controllable();
    const early: string[] = [];
    const late: string[] = [];
    const listener = (heard: string[]) => ({
      onAttempt: (attempt: number) => heard.push(`attempt ${attempt}`),
      onDelta: (text: string, attempt: number) => heard.push(`${attempt}:${text}`),
      onRetry: (error: { code: string }, attempt: number, delayMs: number) =>
        heard.push(`retry ${attempt} ${error.code} ${delayMs}`),
    });
    const first = calls.run('k', shared.execute, listener(early));
    shared.context().attemptStarted(1);
    shared.context().delta('par');
    shared.context().retrying(new ProviderError({ code: 'timeout', message: 'slow' }), 1, 250);
    shared.context().attemptStarted(2);
    shared.context().delta('Who');
    const second = calls.run('k', shared.execute, listener(late));
    shared.context().delta('le');
    shared.result.resolve('Whole');
    await Promise.all([first, second]);
    expect(early).toEqual(['attempt 1', '1:par', 'retry 1 timeout 250', 'attempt 2', '2:Who', '2:le']);
    expect(late).toEqual(['attempt 2', '2:Who', '2:le']);
  });
});
