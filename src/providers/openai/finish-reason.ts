/** Chat Completions finish reasons in the shared vocabulary. */

/**
 * One vocabulary for every adapter: `stop`, `length`, `content_filter`,
 * `tool_calls`, or `other`.
 */
export function mapOpenAIFinishReason(reason: string | null | undefined): string | undefined {
  switch (reason) {
    case null:
    case undefined:
      return undefined;
    case 'stop':
    case 'eos':
    case 'end_turn':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}
