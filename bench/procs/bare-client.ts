/**
 * The capacity baseline: a bare script that keeps `concurrency` streamed
 * chat-completion calls (`stream: true`, usage included) in flight with the
 * `openai` client against the fake upstream, in a closed loop, until told to
 * stop. Its CPU is read by the driver from /proc, exactly as the service's.
 * Env: UPSTREAM_URL (…/v1), MODEL.
 */
import { ready, serve } from '../lib/ipc.js';
import { openaiClient, streamedCall } from '../lib/openai-call.js';

const client = openaiClient(process.env.UPSTREAM_URL);
const model = process.env.MODEL ?? 'm1';

let running = false;
let sequence = 0;
let succeeded = 0;
let failed = 0;
let firstError: string | undefined;
const loops: Promise<void>[] = [];

async function oneCall(): Promise<void> {
  const prompt = `[bench:bare-${sequence++}] What should a small team weigh first?`;
  const { text, usage } = await streamedCall(client, model, prompt);
  if (!text || !usage) throw new Error('empty answer');
}

async function loop(): Promise<void> {
  while (running) {
    try {
      await oneCall();
      succeeded++;
    } catch (error) {
      failed++;
      firstError ??= String(error);
    }
  }
}

serve({
  start: ({ concurrency }: { concurrency: number }) => {
    running = true;
    for (let index = 0; index < concurrency; index++) loops.push(loop());
    return { concurrency };
  },
  stop: async () => {
    running = false;
    await Promise.all(loops.splice(0));
    return { succeeded, failed, firstError };
  },
  counts: () => ({ succeeded, failed }),
});
ready();
