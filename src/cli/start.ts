/** `reverb start`: load configuration, start the server, shut down gracefully on SIGTERM/SIGINT. */
import { ConfigError, loadConfig } from '../config/index.js';
import { createLogger, defaultLogFormat, type LogFormat } from '../observability/logger.js';
import { bannerLine, startServer } from '../server.js';

export interface StartFlags {
  host?: string;
  port?: string;
  path?: string;
  hostname?: string;
  debug?: boolean;
  config?: string;
  envFile?: string;
  logFormat?: LogFormat;
}

export async function runStart(flags: StartFlags): Promise<void> {
  let config;
  try {
    config = await loadConfig({
      configFile: flags.config,
      envFile: flags.envFile,
      flags: { host: flags.host, port: flags.port, path: flags.path, hostname: flags.hostname, debug: flags.debug },
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger({ format: flags.logFormat ?? defaultLogFormat(), debug: config.debug });
  let server;
  try {
    server = await startServer({ config, logger });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    logger.error(
      code === 'EADDRINUSE'
        ? `Cannot listen on ${config.server.host}:${config.server.port}: the address is already in use`
        : `Cannot start the server: ${message}`,
    );
    process.exit(1);
  }

  if (config.usingDevelopmentApp) {
    const app = config.apps[0]!;
    logger.info(
      `No app configured: serving the development app (app_id ${app.id}, key ${app.key}, secret ${app.secret}). Set REVERB_APP_ID, REVERB_APP_KEY and REVERB_APP_SECRET for real use.`,
    );
  }

  logger.info(bannerLine(config, server.port));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`Received ${signal}: gracefully terminating connections.`);
    server.close().then(
      () => {
        logger.info(`Stopping server on ${config.server.host}:${server.port}`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
