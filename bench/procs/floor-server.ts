/**
 * The overhead scenario's floor: the least a service can do to turn an HTTP
 * request into the same model call. A minimal Fastify server whose one route
 * makes the streamed call (`stream: true`, usage included) with the `openai`
 * client, exactly as the driver's direct call does, and answers its text as
 * JSON. Env: UPSTREAM_URL (…/v1), MODEL.
 */
import Fastify from 'fastify';
import { ready, serve } from '../lib/ipc.js';
import { openaiClient, streamedCall } from '../lib/openai-call.js';

const client = openaiClient(process.env.UPSTREAM_URL);
const model = process.env.MODEL ?? 'm1';
const app = Fastify({ logger: false });

app.post<{ Body: { prompt: string } }>('/call', (request) =>
  streamedCall(client, model, request.body.prompt),
);

serve({});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
ready({ url: address });
