/** `reverb start`: load configuration, start the server, register it for `reverb restart`, shut down gracefully on request. */
import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger, defaultLogFormat, type LogFormat } from '../observability/logger.js';
import { bannerLine, startServer } from '../server.js';
import { checkOpenFileLimit } from '../ops/open-files.js';
import { registerServer } from '../ops/registry.js';
import { exitOnCrash, requestRestart, shutDownGracefullyOnRequest } from '../ops/shutdown.js';
import { watchLaravelRestart } from '../ops/laravel-restart/start.js';
import { stopWhenLauncherExits } from '../ops/launcher.js';

export interface StartFlags {
  host?: string;
  port?: string;
  path?: string;
  hostname?: string;
  debug?: boolean;
  config?: string;
  envFile?: string;
  logFormat?: LogFormat;
  transport?: string;
}

export async function runStart(flags: StartFlags): Promise<void> {
  let config;
  try {
    config = await loadConfig({
      configFile: flags.config,
      envFile: flags.envFile,
      flags: {
        host: flags.host,
        port: flags.port,
        path: flags.path,
        hostname: flags.hostname,
        debug: flags.debug,
        transport: flags.transport,
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger({ format: flags.logFormat ?? defaultLogFormat(), debug: config.debug });
  for (const warning of config.warnings) logger.warn(warning);
  exitOnCrash(logger);
  checkOpenFileLimit(config, logger);
  let server;
  try {
    server = await startServer({ config, logger, onRestart: () => requestRestart('Restart broadcast through Redis') });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    logger.error(
      code === 'EADDRINUSE'
        ? `Cannot listen on ${config.server.host}:${config.server.port}: the address is already in use`
        : `Cannot start the server: ${message}`,
    );
    process.exit(1);
  }

  // Before the banner: whoever waits for it (a test, a deploy script) may signal at once.
  try {
    registerServer({ cwd: process.cwd(), host: config.server.host, port: server.port, shutdownTimeout: config.server.shutdownTimeout });
  } catch (error) {
    logger.warn(`\`reverb restart\` will not reach this server: ${(error as Error).message}`);
  }
  shutDownGracefullyOnRequest(server, logger);
  stopWhenLauncherExits();
  await watchLaravelRestart(config.restartSignal, logger);

  if (config.usingDevelopmentApp) {
    const app = config.apps[0]!;
    logger.info(
      `No app configured: serving the development app (app_id ${app.id}, key ${app.key}, secret ${app.secret}). Set REVERB_APP_ID, REVERB_APP_KEY and REVERB_APP_SECRET for real use.`,
    );
  }

  logger.info(`Configuration: ${['environment', ...config.sources].join(', ')}`);
  logger.info(`Transport: ${server.transport}`);
  const metrics = config.server.metrics;
  if (metrics) {
    const where = server.metricsPort === undefined ? `port ${server.port}` : `${metrics.host ?? config.server.host}:${server.metricsPort}`;
    logger.info(`Prometheus metrics: GET /metrics on ${where}${metrics.token ? ' (bearer token required)' : ''}`);
  }
  logger.info(bannerLine(config, server.port));
}
