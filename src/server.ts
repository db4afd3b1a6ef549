import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/index.js';
import { closeHooksTimeoutMs } from './http/plugins/draining.js';
import { loggerOptions } from './logger.js';
import { loadPatternsDir } from './orchestration/patterns/load-dir.js';
import { maskUrlsIn } from './util/mask-url.js';

/** Boot errors go to stderr; a URL in them never shows its credentials. */
function fail(message: string, code: number): never {
  process.stderr.write(`chorus: ${maskUrlsIn(message)}\n`);
  process.exit(code);
}

/** The only file that listens: config, app, graceful shutdown. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      fail(error.message, 78);
    }
    throw error;
  }
  const logger = pino(loggerOptions(config.LOG_LEVEL));
  for (const warning of config.warnings) logger.warn(warning);
  let patterns: Awaited<ReturnType<typeof loadPatternsDir>> = [];
  if (config.PATTERNS_DIR) {
    try {
      patterns = await loadPatternsDir(config.PATTERNS_DIR);
    } catch (error) {
      fail(`PATTERNS_DIR: ${(error as Error).message}`, 78);
    }
  }
  const app = await buildApp({ config, logger, patterns });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal, graceMs: config.SHUTDOWN_GRACE_MS }, 'shutting down: finishing running analyses');
    const force = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, closeHooksTimeoutMs(config.SHUTDOWN_GRACE_MS) + 5_000);
    force.unref();
    app.close().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await app.listen({ host: config.HOST, port: config.PORT });
  const models = app.chorus.registry.list().map((model) => model.id);
  logger.info({ models }, `Chorus is serving on http://${config.HOST}:${config.PORT} (docs: /docs)`);
}

main().catch((error: unknown) => {
  fail(`failed to start: ${(error as Error).stack ?? error}`, 1);
});
