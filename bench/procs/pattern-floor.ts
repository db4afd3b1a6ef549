/**
 * The critical-path scenario's floor: the least a service can do to run the
 * `standard` pattern's three stages with the `openai` client. A minimal
 * Fastify server whose one route (`POST /v1/analyses`, body `{ prompt,
 * models }`) makes every model answer, then every model write a
 * meta-analysis of all the answers, then the first model write the synthesis
 * — streamed calls (`stream: true`, usage included), each stage's calls at
 * once, the prompts rendered from Chorus's own `standard` templates — and
 * answers the texts as JSON. No events, no records, no resilience, no cache:
 * what is left over its critical path is the client, Node's HTTP stack and
 * the machine. Env: UPSTREAM_URL (…/v1).
 */
import Fastify from 'fastify';
import { getBuiltInPattern } from '../../src/orchestration/patterns/index.js';
import { ready, serve } from '../lib/ipc.js';
import { openaiClient, streamedCall } from '../lib/openai-call.js';

const client = openaiClient(process.env.UPSTREAM_URL);
const [initial, meta, synthesis] = getBuiltInPattern('standard')!.stages.map((stage) => stage.template) as [
  string,
  string,
  string,
];
const app = Fastify({ logger: false });

const call = async (model: string, prompt: string) => (await streamedCall(client, model, prompt)).text;

const listed = (texts: string[]) =>
  texts.map((text, index) => `### Response ${index + 1}\n${text}`).join('\n\n');
const render = (template: string, values: Record<string, string>) =>
  template.replace(/\{\{([\w.]+)\}\}/g, (_, name: string) => values[name] ?? '');

app.post<{ Body: { prompt: string; models: string[] } }>('/v1/analyses', async (request) => {
  const { prompt } = request.body;
  // The service's model ids are `<provider>/<model>`; the upstream knows the model part.
  const models = request.body.models.map((id) => id.slice(id.indexOf('/') + 1));
  const answers = await Promise.all(models.map((model) => call(model, render(initial, { prompt }))));
  const metaPrompt = render(meta, { prompt, responses: listed(answers) });
  const metas = await Promise.all(models.map((model) => call(model, metaPrompt)));
  const final = await call(
    models[0]!,
    render(synthesis, { prompt, 'stages.initial': listed(answers), responses: listed(metas) }),
  );
  return { status: 'succeeded', result: { text: final } };
});

serve({});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
ready({ url: address });
