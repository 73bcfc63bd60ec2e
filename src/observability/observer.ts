/**
 * The protocol observer the server runs with: the --debug stream, error logs
 * and the embedding hooks. Frames are only formatted when debug is on.
 */
import type { Connection } from '../protocol/connection.js';
import type { ProtocolObserver } from '../protocol/observer.js';
import type { ConnectionInfo, ServerHooks } from './hooks.js';
import type { Logger } from './logger.js';
import { LogLimiter, withSuppressed } from './log-limiter.js';

function info(connection: Connection): ConnectionInfo {
  return { appId: connection.app.id, socketId: connection.socketId, remoteAddress: connection.socket.remoteAddress };
}

/** Hook errors are logged, never allowed to break the connection that triggered them. */
function guard(logger: Logger, name: string, call: () => void): void {
  try {
    call();
  } catch (error) {
    logger.error({ err: error }, `hook ${name} failed`);
  }
}

export function createObserver(logger: Logger, debug: boolean, hooks: ServerHooks = {}): ProtocolObserver {
  const limiter = new LogLimiter();
  return {
    connectionOpened(connection) {
      if (debug) logger.debug({ socketId: connection.socketId, app: connection.app.id, remote: connection.socket.remoteAddress }, 'Connection Established');
      if (hooks.connectionOpened) guard(logger, 'connectionOpened', () => hooks.connectionOpened!(info(connection)));
    },
    connectionClosed(connection, code) {
      if (debug) logger.debug({ socketId: connection.socketId, code }, 'Connection Closed');
      if (hooks.connectionClosed) guard(logger, 'connectionClosed', () => hooks.connectionClosed!({ ...info(connection), code }));
    },
    connectionRefused(appKey, reason) {
      if (debug) logger.debug({ appKey, reason }, 'Connection Refused');
    },
    subscribed(connection, channel) {
      if (debug) logger.debug({ socketId: connection.socketId, channel }, 'Subscribed');
      if (hooks.subscribed) guard(logger, 'subscribed', () => hooks.subscribed!({ ...info(connection), channel }));
    },
    unsubscribed(connection, channel) {
      if (debug) logger.debug({ socketId: connection.socketId, channel }, 'Unsubscribed');
      if (hooks.unsubscribed) guard(logger, 'unsubscribed', () => hooks.unsubscribed!({ ...info(connection), channel }));
    },
    messageReceived(connection, text) {
      if (debug) logger.debug({ socketId: connection.socketId, message: truncate(text) }, 'Message Received');
      if (hooks.messageReceived) guard(logger, 'messageReceived', () => hooks.messageReceived!({ ...info(connection), message: text }));
    },
    frameSent(connection, text) {
      if (debug) logger.debug({ socketId: connection.socketId, message: truncate(text) }, 'Message Sent');
    },
    broadcast(appId, channel, frame, recipients) {
      if (debug) logger.debug({ app: appId, channel, recipients, message: truncate(frame) }, 'Broadcasting To');
    },
    pinged(connection) {
      if (debug) logger.debug({ socketId: connection.socketId }, 'Connection Pinged');
    },
    slowConsumer(connection) {
      const buffered = connection.socket.bufferedAmount;
      limiter.log('slowConsumer', (suppressed) =>
        logger.warn(withSuppressed({ socketId: connection.socketId, buffered }, suppressed), 'Closing slow consumer (4100)'),
      );
    },
    limited(connection, limit) {
      if (debug) logger.debug({ socketId: connection.socketId, limit }, 'Limit Reached');
    },
    clientEvent() {},
    published() {},
    handlerFailed(connection, error) {
      limiter.log('handlerFailed', (suppressed) =>
        logger.error(withSuppressed({ socketId: connection.socketId, err: error }, suppressed), 'Message handling failed'),
      );
    },
  };
}

function truncate(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}
