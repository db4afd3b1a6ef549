import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyHttpOptions,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { pino } from 'pino';
import { type AppOptions, chorusApp } from './app.js';
import { type Config, ConfigError, loadConfig, loadKeys } from './config/index.js';
import { closeHooksTimeoutMs } from './http/plugins/draining.js';
import { clientErrorHandler, frameworkErrors, REQUEST_ID } from './http/protocol-errors.js';
import { loggerOptions, SERIALIZERS } from './logger.js';
import { loadPatternsDir } from './orchestration/patterns/load-dir.js';
import { maskUrlsIn } from './util/mask-url.js';

/**
 * The server's options, all in one place: its logger, body limit, time-outs,
 * request ids and the answers to protocol-level errors.
 */
export function serverOptions(config: Config, logger?: pino.Logger): FastifyHttpOptions<Server> {
  return {
    // Whatever logger is passed in, request lines and errors go through our serializers (no
    // stream tokens in URLs, no credentials in a URL of an error): set once, every child inherits them.
    ...(logger
      ? { loggerInstance: logger.child({}, { serializers: SERIALIZERS }) as unknown as FastifyBaseLogger }
      : { logger: loggerOptions(config.LOG_LEVEL) }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // The drain runs in a close hook: Fastify's own 503 (bare JSON) is replaced by ours.
    pluginTimeout: closeHooksTimeoutMs(config.SHUTDOWN_GRACE_MS),
    return503OnClosing: false,
    requestIdHeader: false,
    // One access line per request instead of Fastify's two (http/plugins/access-log.ts).
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { maxParamLength: 500 },
    frameworkErrors,
    clientErrorHandler,
    // A client has REQUEST_TIMEOUT_MS to send its whole request (a body dribbled a byte at a
    // time is cut off with a 408); the check runs often enough for the limit to hold.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(config.REQUEST_TIMEOUT_MS, 60_000),
      connectionsCheckingInterval: Math.min(30_000, Math.max(25, Math.floor(config.REQUEST_TIMEOUT_MS / 10))),
      requireHostHeader: false,
    },
  };
}

/** The server with the app registered and ready, not yet listening (tests listen or inject). */
export async function buildServer(options: AppOptions & { logger?: pino.Logger }): Promise<FastifyInstance> {
  const { logger, ...appOptions } = options;
  const server = Fastify(serverOptions(options.config, logger));
  await server.register(chorusApp, appOptions);
  await server.ready();
  return server;
}

/** Boot errors go to stderr; a URL in them never shows its credentials. */
function fail(message: string, code: number): never {
  process.stderr.write(`chorus: ${maskUrlsIn(message)}\n`);
  process.exit(code);
}

/**
 * SIGHUP: reads API_KEYS and KEYS_FILE again. A bad file is logged (file, line,
 * field — never a key) and the keys in force stay.
 */
export function reloadKeys(
  app: FastifyInstance,
  config: Config,
  logger: pino.Logger,
  source: NodeJS.ProcessEnv = process.env,
): boolean {
  try {
    const keys = loadKeys(config.API_KEYS, config.KEYS_FILE, source);
    if (app.apiKeys.enabled && keys.length === 0) {
      throw new ConfigError('the reloaded keys name no key: that would turn authentication off.');
    }
    app.apiKeys.replace(keys);
    logger.info({ keys: keys.map((key) => key.name) }, 'API keys reloaded');
    return true;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    logger.error({ problem: error.message }, 'KEYS_FILE reload failed: the keys in force stay');
    return false;
  }
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
  const app = await buildServer({ config, logger, patterns });

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
  process.on('SIGHUP', () => reloadKeys(app, config, logger));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    await app.close().catch(() => undefined);
    if (code === 'EADDRINUSE')
      fail(
        `PORT ${config.PORT} on ${config.HOST} is already in use: stop what listens there, or set PORT to a free port.`,
        1,
      );
    if (code === 'EACCES')
      fail(
        `PORT ${config.PORT} on ${config.HOST} needs more privileges than this process has: set PORT above 1023.`,
        1,
      );
    if (code === 'EADDRNOTAVAIL')
      fail(
        `HOST ${config.HOST} is not an address of this machine: set HOST to one (127.0.0.1, 0.0.0.0, …).`,
        1,
      );
    throw error;
  }
  const models = app.chorus.registry.list().map((model) => model.id);
  logger.info({ models }, `Chorus is serving on http://${config.HOST}:${config.PORT} (docs: /docs)`);
}

// Run when started as the program (node dist/server.js), not when imported (tests, scripts).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    fail(`failed to start: ${(error as Error).stack ?? error}`, 1);
  });
}
