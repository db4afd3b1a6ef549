/**
 * A chat request, once a surface has read it, as the analysis it runs: the
 * same input `POST /v1/analyses` takes, checked by the same schema (turn
 * counts, sizes, option ranges, metadata limits), with every problem pointed
 * back at the field of the surface's own body.
 */
import type { CreateAnalysisInput } from '../../analyses/service.js';
import type { RunOptions } from '../../orchestration/events.js';
import { createAnalysisSchema } from '../native/schemas/analyses.js';
import { ChatError } from './chat-error.js';
import { type ModelNames, resolveModel } from './model-names.js';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The optional `chorus` field of both surfaces. */
export interface ChorusField {
  models?: string[] | undefined;
  synthesisModel?: string | undefined;
  options?: RunOptions | undefined;
  reasoning?: boolean | undefined;
}

export interface ChatInput {
  model: string;
  messages: ChatTurn[];
  system?: string | undefined;
  options: RunOptions;
  metadata?: Record<string, unknown> | undefined;
  chorus?: ChorusField | undefined;
}

/** Where each analysis field came from in the surface's body (`messages` keeps its indexes). */
export type ParamNames = Partial<Record<'temperature' | 'maxTokens' | 'system' | 'metadata', string>>;

export async function toAnalysisInput(
  names: ModelNames,
  owner: string,
  chat: ChatInput,
  params: ParamNames,
): Promise<CreateAnalysisInput> {
  const resolved = await resolveModel(names, owner, chat.model);
  if (chat.messages.length === 0) {
    throw new ChatError('invalid', 'messages is empty: send at least one user turn.', { param: 'messages' });
  }
  const last = chat.messages.length - 1;
  if (chat.messages[last]!.role !== 'user') {
    throw new ChatError(
      'invalid',
      `The last message is the ${chat.messages[last]!.role}'s: the conversation must end with a user turn.`,
      { param: `messages.${last}.role` },
    );
  }
  const body = {
    messages: chat.messages,
    ...(chat.system !== undefined && { system: chat.system }),
    pattern: resolved.pattern,
    ...((chat.chorus?.models ?? resolved.models) && { models: chat.chorus?.models ?? resolved.models }),
    ...(chat.chorus?.synthesisModel !== undefined && { synthesisModel: chat.chorus.synthesisModel }),
    options: { ...chat.options, ...chat.chorus?.options },
    ...(chat.metadata !== undefined && { metadata: chat.metadata }),
  };
  const parsed = createAnalysisSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = paramOf(issue.path, params);
    throw new ChatError('invalid', `${param}: ${issue.message}`, { param });
  }
  return parsed.data;
}

function paramOf(path: readonly PropertyKey[], params: ParamNames): string {
  const [head, next, ...rest] = path.map(String);
  if (head === 'options' && (next === 'temperature' || next === 'maxTokens') && params[next])
    return params[next];
  if (head === 'options' || head === 'models' || head === 'synthesisModel')
    return ['chorus', ...path.map(String)].join('.');
  if (head === 'system' && params.system) return params.system;
  if (head === 'metadata' && params.metadata)
    return [params.metadata, next, ...rest].filter(Boolean).join('.');
  return path.map(String).join('.') || 'messages';
}
