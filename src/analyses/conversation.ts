import type { ChatMessage } from '../providers/spec.js';

/** A turn of the conversation an analysis carries (the record's `messages`). */
export interface ConversationMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What every model call of an analysis is given besides the stage's template. */
export interface ModelTurns {
  /** The request's `system` and the conversation's system turns, in order. */
  system: string | undefined;
  /** The turns before the last user turn, as chat turns (system turns left out). */
  history: readonly ChatMessage[];
  /** The last user turn: the template's `{{prompt}}`. */
  prompt: string;
}

/**
 * Splits a conversation into what the models receive. The turns are shared,
 * not copied: the history holds the conversation's own message objects (a
 * ConversationMessage without a system role is a ChatMessage), so a long
 * conversation is held once however many calls send it.
 */
export function modelTurns(messages: readonly ConversationMessage[], system: string | undefined): ModelTurns {
  const last = messages.at(-1);
  const systems: string[] = system === undefined ? [] : [system];
  const history: ChatMessage[] = [];
  for (let index = 0; index < messages.length - 1; index++) {
    const message = messages[index]!;
    if (message.role === 'system') systems.push(message.content);
    else history.push(message as ChatMessage);
  }
  return {
    system: systems.length > 0 ? systems.join('\n\n') : undefined,
    history: Object.freeze(history),
    prompt: last?.content ?? '',
  };
}

/** The conversation of a follow-up: the parent's, its answer, then the new turns. */
export function followUp(
  parent: readonly ConversationMessage[],
  answer: string,
  next: readonly ConversationMessage[],
): ConversationMessage[] {
  return [...parent, { role: 'assistant', content: answer }, ...next];
}
