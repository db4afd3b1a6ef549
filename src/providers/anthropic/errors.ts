/** The Anthropic SDK's errors as ProviderErrors. */
import * as Anthropic from '@anthropic-ai/sdk';
import { createErrorMapping } from '../shared/http-errors.js';

export const toAnthropicError = createErrorMapping({
  base: Anthropic.AnthropicError,
  api: Anthropic.APIError,
  userAbort: Anthropic.APIUserAbortError,
  connectionTimeout: Anthropic.APIConnectionTimeoutError,
  connection: Anthropic.APIConnectionError,
});
