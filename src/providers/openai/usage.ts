/** Token counts when an upstream reports none: about four characters a token. */
import type { GenerateRequest, Usage } from '../spec.js';

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimateUsage(request: GenerateRequest, output: string): Usage {
  const input = (request.system ?? '') + request.messages.map((message) => message.content).join('');
  return { inputTokens: estimateTokens(input), outputTokens: estimateTokens(output) };
}
