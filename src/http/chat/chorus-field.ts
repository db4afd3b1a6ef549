/** The optional `chorus` field both chat surfaces take: the panel, as in `POST /v1/analyses`. */
import { z } from 'zod';
import { runOptionsSchema } from '../../orchestration/run-options-schema.js';

export const chorusFieldSchema = z
  .object({
    models: z.array(z.string()).optional(),
    synthesisModel: z.string().optional(),
    options: runOptionsSchema.optional(),
    reasoning: z.boolean().optional().describe('false leaves the earlier stages out of the stream'),
  })
  .strict()
  .describe('Chorus only: the panel, as in POST /v1/analyses');
