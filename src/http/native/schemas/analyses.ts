import { z } from 'zod';
import {
  modelIdSchema,
  modelListSchema,
  runOptionsSchema,
} from '../../../orchestration/run-options-schema.js';
import { errorInfoSchema, usageSchema } from './common.js';
import { estimateSchema } from './estimate.js';

export const METADATA_LIMITS = { depth: 8, nodes: 1000 } as const;

/** Checks nesting depth and size without recursion (a hostile body cannot overflow the stack). */
export function withinJsonLimits(value: unknown, limits: { depth: number; nodes: number }): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (++nodes > limits.nodes || depth > limits.depth) return false;
    if (item !== null && typeof item === 'object') {
      for (const child of Object.values(item)) stack.push([child, depth + 1]);
    }
  }
  return true;
}

const modelId = modelIdSchema;

/** The options of an analysis (shared with pattern defaults). */
export const analysisOptionsSchema = runOptionsSchema;

export const CONVERSATION_LIMITS = { turns: 200, turnChars: 200_000 } as const;

export const conversationMessageSchema = z
  .object({
    role: z.enum(['system', 'user', 'assistant']),
    content: z.string().max(CONVERSATION_LIMITS.turnChars),
  })
  .strict()
  .meta({ id: 'ConversationMessage' });

const conversationSchema = z
  .array(conversationMessageSchema)
  .min(1)
  .max(CONVERSATION_LIMITS.turns)
  .refine((messages) => messages.at(-1)?.role === 'user', {
    message: "the last message must be the user's turn",
  });

/** The question, as POST /v1/analyses and a pattern preview take it. */
export const promptSchema = z.string().min(1).max(200_000);

export const createAnalysisSchema = z
  .object({
    prompt: promptSchema.optional().describe('the question; exactly one of prompt and messages'),
    messages: conversationSchema
      .optional()
      .describe("a conversation instead of prompt; the last turn is the user's"),
    continueFrom: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('follow up on one of your succeeded analyses: its conversation and answer come first'),
    system: z.string().max(20_000).optional(),
    pattern: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('a pattern name from GET /v1/patterns; default standard'),
    models: modelListSchema.optional(),
    synthesisModel: modelId.optional(),
    options: analysisOptionsSchema.optional(),
    metadata: z
      .record(z.string().max(256), z.unknown())
      .refine((metadata) => Object.keys(metadata).length <= 16, 'metadata holds at most 16 keys')
      .refine(
        (metadata) => withinJsonLimits(metadata, METADATA_LIMITS),
        `metadata is limited to ${METADATA_LIMITS.depth} levels of nesting and ${METADATA_LIMITS.nodes} values`,
      )
      .optional(),
    webhook: z
      .object({
        url: z.string().min(1).max(2048).describe('http(s) URL called when the analysis ends (see Webhooks)'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((body, context) => {
    if ((body.prompt === undefined) === (body.messages === undefined)) {
      context.addIssue({
        code: 'custom',
        path: body.prompt === undefined ? ['prompt'] : ['messages'],
        message: 'give exactly one of prompt and messages',
      });
    }
  })
  .meta({ id: 'CreateAnalysis' });

export type CreateAnalysisBody = z.output<typeof createAnalysisSchema>;

const statusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

const progressSchema = z.object({
  stage: z.string().nullable(),
  progress: z.number().min(0).max(1),
  message: z.string(),
  timestamp: z.string(),
  details: z.record(z.string(), z.unknown()),
});

const linksSchema = z.object({ self: z.string(), events: z.string() });

export const modelResponseSchema = z.object({
  model: z.string(),
  status: z.enum(['succeeded', 'failed']),
  text: z.string().nullable(),
  error: errorInfoSchema.nullable(),
  latencyMs: z.number(),
  attempts: z.number().int(),
  cached: z.boolean(),
  usage: usageSchema,
  costUsd: z.number(),
});

export const analysisRecordSchema = z
  .object({
    id: z.string(),
    status: statusSchema,
    pattern: z.string(),
    models: z.array(z.string()),
    synthesisModel: z.string(),
    progress: progressSchema,
    stages: z.array(
      z.object({
        name: z.string(),
        mode: z.enum(['each', 'one']),
        status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped']),
        startedAt: z.string().nullable(),
        completedAt: z.string().nullable(),
        reason: z.string().nullable(),
        responses: z.array(modelResponseSchema),
      }),
    ),
    result: z
      .object({
        text: z.string(),
        model: z.string(),
        fallbackFrom: z.string().nullable(),
        degraded: z.boolean(),
        ranking: z
          .array(z.object({ model: z.string(), averageRank: z.number(), votes: z.number().int() }))
          .optional(),
        unparsedRankings: z.number().int().optional(),
      })
      .nullable(),
    usage: usageSchema.extend({ costUsd: z.number() }),
    estimate: estimateSchema.optional().describe('the estimate the analysis was admitted with'),
    error: errorInfoSchema.nullable(),
    warnings: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    messages: z.array(conversationMessageSchema),
    parentId: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    links: linksSchema,
    webhook: z
      .object({
        url: z.string(),
        deliveries: z.array(
          z.object({
            attempt: z.number().int(),
            at: z.string(),
            status: z
              .number()
              .int()
              .nullable()
              .describe("the receiver's HTTP status; null when none came back"),
            error: z.string().nullable(),
          }),
        ),
      })
      .nullable(),
  })
  .meta({ id: 'Analysis' });

export const analysisSummarySchema = z
  .object({
    id: z.string(),
    status: statusSchema,
    pattern: z.string(),
    models: z.array(z.string()),
    progress: progressSchema,
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    links: linksSchema,
  })
  .meta({ id: 'AnalysisSummary' });

export const analysisListSchema = z.object({
  data: z.array(analysisSummarySchema),
  nextCursor: z.string().nullable(),
});

export const listQuerySchema = z
  .object({
    status: statusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(200).optional(),
  })
  .strict();

export const analysisParamsSchema = z.object({ id: z.string().min(1).max(100) });

export const eventsQuerySchema = z
  .object({
    deltas: z.enum(['true', 'false']).default('true').describe('false leaves out model.delta events'),
    token: z.string().max(200).optional().describe('the signed token from links.events'),
    lastEventId: z.string().max(20).optional().describe('same as the Last-Event-ID header'),
  })
  .strict();
