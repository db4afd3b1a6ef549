import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Budgets } from '../../analyses/budget/budgets.js';
import { toUsd } from '../../analyses/budget/ledger.js';
import type { ApiKeyAuth } from '../plugins/auth.js';
import { HttpProblem } from '../problem.js';
import { problems } from './schemas/common.js';

const MAX_DAYS = 366;
const day = z.iso.date({ error: 'a date, YYYY-MM-DD (UTC)' });

const usageSchema = z
  .object({
    key: z.string(),
    budget: z
      .object({
        usd: z.number(),
        period: z.enum(['day', 'month', 'total']),
        spentUsd: z.number(),
        reservedUsd: z.number(),
        remainingUsd: z.number(),
        resetsAt: z.string().nullable(),
      })
      .nullable(),
    data: z.array(
      z.object({
        day: z.string(),
        model: z.string(),
        pattern: z.string(),
        calls: z.number().int(),
        inputTokens: z.number().int(),
        outputTokens: z.number().int(),
        costUsd: z.number(),
      }),
    ),
  })
  .meta({ id: 'Usage' });

/** `GET /v1/usage`: a key's spend per day, model and pattern, and its budget as it stands. */
export async function usageRoutes(
  app: FastifyInstance,
  options: { budgets: Budgets; auth: ApiKeyAuth; now?: () => number },
): Promise<void> {
  const now = options.now ?? Date.now;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/usage',
    {
      schema: {
        tags: ['usage'],
        summary: "Your key's usage and budget",
        description: `Calls, tokens and cost per UTC day, model and pattern from \`from\` to \`to\` (inclusive, at most ${MAX_DAYS} days; by default the current month), and the budget's spent, reserved and remaining amounts. An admin key may read another key's with \`key=<name>\`.`,
        security: [{ bearerAuth: [] }],
        querystring: z.object({
          from: day.optional(),
          to: day.optional(),
          key: z.string().min(1).max(64).optional(),
        }),
        response: { 200: usageSchema, ...problems(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const today = new Date(now()).toISOString().slice(0, 10);
      const to = request.query.to ?? today;
      const from = request.query.from ?? `${to.slice(0, 7)}-01`;
      if (from > to) throw new HttpProblem('validation', `from (${from}) is after to (${to}).`);
      if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_DAYS) {
        throw new HttpProblem(
          'validation',
          `from and to span more than ${MAX_DAYS} days: ask for a shorter range.`,
        );
      }
      let key = request.apiKey;
      let name = request.owner;
      if (request.query.key !== undefined && request.query.key !== name) {
        if (!key?.admin) {
          throw new HttpProblem(
            'forbidden',
            "Only an admin key (admin: true in KEYS_FILE) may read another key's usage.",
          );
        }
        key = options.auth.byName(request.query.key);
        if (!key) throw new HttpProblem('notFound', `No API key is named "${request.query.key}".`);
        name = key.name;
      }
      const rows = await options.budgets.usage(name, from, to);
      return {
        key: name,
        budget: await options.budgets.status(key),
        data: rows
          .sort(
            (x, y) =>
              x.day.localeCompare(y.day) ||
              x.model.localeCompare(y.model) ||
              x.pattern.localeCompare(y.pattern),
          )
          .map(({ cost, ...row }) => ({ ...row, costUsd: toUsd(cost) })),
      };
    },
  );
}
