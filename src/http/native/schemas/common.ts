import { z } from 'zod';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });

export const errorInfoSchema = z.object({ code: z.string(), message: z.string() }).meta({ id: 'ErrorInfo' });

export const usageSchema = z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() });

/** Problem answers, documented once and shared by the routes. */
export function problems(...statuses: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries(statuses.map((status) => [status, problemSchema]));
}
