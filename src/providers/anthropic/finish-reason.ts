/** Anthropic's stop reasons in the shared vocabulary. */

/** Anthropic's stop reasons in the shared vocabulary (`stop`, `length`, `content_filter`, `tool_calls`, `other`). */
export function mapAnthropicStopReason(reason: string | null | undefined): string | undefined {
  switch (reason) {
    case null:
    case undefined:
      return undefined;
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    case 'tool_use':
      return 'tool_calls';
    default:
      return 'other';
  }
}
