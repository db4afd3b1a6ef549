import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app.js';

describe('the OpenAPI document', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('committed in openapi/openapi.json is exactly what /docs/json serves (run `npm run openapi` after changing routes)', async () => {
    const served = await (await fetch(`${app.url}/docs/json`)).json();
    const committed = JSON.parse(
      readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'),
    );
    expect(served).toEqual(committed);
  });

  it('documents every route of the contract', async () => {
    const document = (await (await fetch(`${app.url}/docs/json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toMatch(/^3\./);
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/analyses',
        'GET /v1/analyses',
        'GET /v1/analyses/{id}',
        'DELETE /v1/analyses/{id}',
        'POST /v1/analyses/{id}/cancel',
        'GET /v1/analyses/{id}/events',
        'GET /v1/patterns',
        'POST /v1/patterns',
        'GET /v1/patterns/{name}',
        'GET /v1/models',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ]),
    );
  });
});
