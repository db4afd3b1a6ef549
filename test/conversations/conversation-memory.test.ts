/**
 * A long conversation is held once, not once per call, event or turn: the
 * turns every model call sends are the conversation's own objects, and the
 * bytes a finished analysis holds in the store stay a small multiple of the
 * conversation (its record, and the completion event that carries the record).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { modelTurns } from '../../src/analyses/conversation.js';
import type { AnalysisRecord } from '../../src/analyses/record.js';
import { buildCallRequest } from '../../src/models/call-request.js';
import { jsonBytes } from '../../src/util/json-bytes.js';
import { json, startApp, type TestApp } from '../support/app.js';

const conversation = (turns: number, chars: number) =>
  Array.from({ length: turns }, (_, index) => ({
    role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
    content: randomBytes(chars / 2).toString('hex'),
  }));

describe('conversation memory', () => {
  it('shares the turns with every model call instead of copying them', () => {
    const messages = conversation(41, 100);
    const turns = modelTurns(messages, 'sys');
    expect(turns.history).toHaveLength(40);
    turns.history.forEach((turn, index) => {
      expect(turn).toBe(messages[index]);
    });
    const settings = { temperature: undefined, maxTokens: undefined };
    const model = { id: 'sim/alpha', model: 'alpha' } as Parameters<typeof buildCallRequest>[0];
    const call = {
      owner: 'o',
      modelId: 'sim/alpha',
      system: turns.system,
      history: turns.history,
      prompt: 'p',
      settings,
    };
    const first = buildCallRequest(model, call as Parameters<typeof buildCallRequest>[1]);
    const second = buildCallRequest(model, call as Parameters<typeof buildCallRequest>[1]);
    first.request.messages.slice(0, 40).forEach((turn, index) => {
      expect(turn).toBe(messages[index]);
      expect(second.request.messages[index]).toBe(turn);
    });
  });

  describe('bytes held by the store', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ env: { STORE: 'memory', MAX_ANALYSIS_EVENT_BYTES: '65536' } });
    });
    afterAll(() => app.close());

    it('holds a finished 3-model standard analysis of a long conversation in under 2.5× its bytes', async () => {
      const messages = conversation(101, 4_000); // about 400 KB of turns, random (incompressible)
      const size = jsonBytes(messages);
      const before = await app.app.chorus.store.bytesHeld();
      const response = await fetch(`${app.url}/v1/analyses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'wait=30' },
        body: JSON.stringify({ messages }),
      });
      expect(response.status).toBe(200);
      const record = await json<AnalysisRecord>(response);
      expect(record.status).toBe('succeeded');
      let held = 0;
      await vi.waitFor(async () => {
        held = (await app.app.chorus.store.bytesHeld()) - before;
        expect(held).toBeGreaterThan(0);
      });
      // 7 model calls and dozens of events: a copy per call or per event would be 7× or more.
      expect(held).toBeLessThan(2.5 * size);
    });
  });
});
