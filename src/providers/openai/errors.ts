/** The OpenAI SDK's errors as ProviderErrors (for OpenAI and every server on its wire). */
import * as OpenAI from 'openai';
import { createErrorMapping } from '../shared/http-errors.js';

export const toOpenAIError = createErrorMapping({
  base: OpenAI.OpenAIError,
  api: OpenAI.APIError,
  userAbort: OpenAI.APIUserAbortError,
  connectionTimeout: OpenAI.APIConnectionTimeoutError,
  connection: OpenAI.APIConnectionError,
});
