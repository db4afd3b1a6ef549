/**
 * The baselines' model call, the same everywhere it is made (the driver's
 * direct call, the floors, the bare client): a streamed chat completion
 * (`stream: true`, usage included) with the `openai` client as it comes —
 * its own fetch, no retries — reading the text and the usage chunk.
 */
import OpenAI from 'openai';

export const openaiClient = (baseURL: string | undefined): OpenAI =>
  new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0 });

export async function streamedCall(
  client: OpenAI,
  model: string,
  prompt: string,
): Promise<{ text: string; usage: OpenAI.CompletionUsage | undefined }> {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: prompt }],
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
}
