/**
 * The overhead scenario's floor: the least a service can do to turn an HTTP
 * request into the same model call. A minimal Fastify server whose one route
 * makes the streamed call (`stream: true`, usage included) with the `openai`
 * client, exactly as the driver's direct call does, and answers its text as
 * JSON. Env: UPSTREAM_URL (…/v1), MODEL.
 */
import Fastify from 'fastify';
import OpenAI from 'openai';
import { ready, serve } from '../lib/ipc.js';

const client = new OpenAI({ baseURL: process.env.UPSTREAM_URL, apiKey: 'bench', maxRetries: 0 });
const model = process.env.MODEL ?? 'm1';
const app = Fastify({ logger: false });

app.post<{ Body: { prompt: string } }>('/call', async (request) => {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: request.body.prompt }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, usage };
});

serve({});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
ready({ url: address });
