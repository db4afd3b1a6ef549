import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** The OpenAPI document of every route registered after it (`/docs/json`), and Swagger UI at `/docs`. */
export const openApi = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Chorus',
          version: '0.1.0',
          description:
            'Runs one question through several large language models at once and turns their answers into one better answer. Errors are application/problem+json (RFC 9457).',
        },
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS (when set).' },
            streamToken: {
              type: 'apiKey',
              in: 'query',
              name: 'token',
              description: 'The token in links.events.',
            },
          },
        },
        tags: [
          { name: 'analyses', description: 'Start, follow and manage analyses' },
          { name: 'patterns', description: 'The analysis patterns' },
          { name: 'models', description: 'The configured models' },
          { name: 'operations', description: 'Health and readiness' },
          {
            name: 'openai',
            description: "OpenAI-compatible Chat Completions under /openai/v1 (errors in OpenAI's shape)",
          },
          {
            name: 'anthropic',
            description: "Anthropic-compatible Messages under /anthropic/v1 (errors in Anthropic's shape)",
          },
        ],
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'chorus-openapi' },
);
