/**
 * How a `reverb start` process ends. SIGTERM and SIGINT (process managers,
 * Ctrl+C, `reverb restart`) and restart requests from the cluster all lead to
 * the same graceful shutdown: stop accepting, close every WebSocket with 4200,
 * let in-flight API requests finish, exit 0 so the process manager starts a
 * fresh server. A hard deadline keeps the exit bounded whatever hangs.
 */
import type { Logger } from '../observability/logger.js';
import type { RunningServer } from '../server.js';

let onRequest: ((reason: string) => void) | undefined;

/**
 * Asks this process's server to restart gracefully. Called by the signal
 * handlers below and, with scaling on, by the Redis cluster when a restart
 * message arrives on the scaling channel (`reverb start` passes it as
 * startServer's onRestart). Returns false when nothing handles restarts (an
 * embedded server started with createServer(): its host decides when to close).
 */
export function requestRestart(reason: string): boolean {
  if (!onRequest) return false;
  onRequest(reason);
  return true;
}

/** Margin after shutdown_timeout before the process exits regardless. */
const HARD_DEADLINE_MARGIN_MS = 2000;

export function shutDownGracefullyOnRequest(server: RunningServer, logger: Logger): void {
  const { host, shutdownTimeout } = server.config.server;
  let stopping = false;
  onRequest = (reason) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${reason}: gracefully terminating connections.`);
    setTimeout(() => {
      logger.warn(`Graceful shutdown took longer than ${shutdownTimeout} s: exiting now.`);
      process.exit(0);
    }, shutdownTimeout * 1000 + HARD_DEADLINE_MARGIN_MS).unref();
    server.close().then(
      async () => {
        logger.info(`Stopping server on ${host}:${server.port}`);
        // One more turn of the event loop: uWebSockets.js writes the last API
        // responses out on its loop turn, and exiting first would drop them.
        await new Promise((resolve) => setImmediate(resolve));
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Graceful shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => requestRestart(`Received ${signal}`));
  }
}

/**
 * An exception nothing caught leaves the server in an unknown state: log it
 * (as JSON in production, unlike Node's default stderr dump) and exit 1 so
 * the process manager starts a fresh server.
 */
export function exitOnCrash(logger: Logger): void {
  const crash = (error: unknown) => {
    logger.fatal({ err: error }, `Server crashed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
