/**
 * Writes openapi/openapi.json from the routes (`npm run openapi`). A test keeps
 * the committed file identical to what /docs/json serves.
 */
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { loadConfig } from '../src/config/index.js';
import { buildServer } from '../src/server.js';

export async function openApiDocument(): Promise<string> {
  const app = await buildServer({
    config: loadConfig({ LOG_LEVEL: 'silent' }),
    logger: pino({ level: 'silent' }),
  });
  await app.ready();
  const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
  await app.close();
  return document;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../openapi/openapi.json', import.meta.url), await openApiDocument());
  process.stdout.write('openapi/openapi.json written\n');
}
