/**
 * Inbound frame dispatch: size and rate limits, envelope parsing, then the
 * `pusher:` events and client events. Every failure becomes an error frame;
 * the connection stays usable.
 */
import type { Connection } from './connection.js';
import { handleClientEvent } from './client-events.js';
import { handleSignin } from './signin.js';
import { subscribe, unsubscribe } from './subscriptions.js';
import { ERRORS, InvalidMessage, PONG_FRAME, parseInbound } from './wire.js';

export { unsubscribeAll } from './subscriptions.js';

/** Reverb's fixed-window limiter: the first `max_attempts` frames of each window pass. */
function withinRateLimit(connection: Connection, now: number): boolean {
  const limits = connection.app.config.rateLimiting;
  if (!limits.enabled) return true;
  if (now - connection.windowStart >= limits.decaySeconds * 1000) {
    connection.windowStart = now;
    connection.windowCount = 0;
  }
  if (connection.windowCount < limits.maxAttempts) {
    connection.windowCount++;
    return true;
  }
  connection.app.server.observer.limited(connection, 'rate_limiting');
  connection.error(ERRORS.rateLimited, limits.terminateOnLimit);
  return false;
}

/**
 * `max_messages_per_second`, for every kind of inbound message: past it
 * messages are dropped unread (one error frame per second says so), and a
 * client that keeps going to twice the limit is closed with 4100. Dropping
 * costs a comparison, so a flood costs less than the messages it replaces.
 */
export function withinMessageRate(connection: Connection, now: number): boolean {
  if (now - connection.messageWindowStart >= 1000) {
    connection.messageWindowStart = now;
    connection.messageCount = 0;
  }
  const limit = connection.app.config.maxMessagesPerSecond;
  const count = ++connection.messageCount;
  if (count <= limit) return true;
  if (count === limit + 1) {
    connection.app.server.observer.limited(connection, 'max_messages_per_second');
    connection.error({ code: 4301, message: `Rate limit exceeded: more than ${limit} messages per second; messages are dropped.` });
  } else if (count > 2 * limit) {
    connection.app.server.observer.limited(connection, 'message_flood');
    connection.error(ERRORS.messageFlood, true);
  }
  return false;
}

export function handleMessage(connection: Connection, text: string): void {
  const server = connection.app.server;
  const now = server.now();
  connection.lastSeen = now;
  connection.pingedAt = 0;
  if (connection.closed) return;
  if (!withinMessageRate(connection, now)) return;
  server.observer.messageReceived(connection, text);
  if (Buffer.byteLength(text) > connection.app.config.maxMessageSize) {
    connection.close(1009, 'Maximum message size exceeded');
    return;
  }
  if (!withinRateLimit(connection, now)) return;

  let message;
  try {
    message = parseInbound(text);
  } catch (error) {
    if (error instanceof InvalidMessage) {
      connection.error(ERRORS.invalidMessage);
      return;
    }
    throw error;
  }

  const { event } = message;
  if (event.startsWith('pusher:')) {
    switch (event) {
      case 'pusher:ping':
        connection.send(PONG_FRAME);
        return;
      case 'pusher:pong':
        return;
      case 'pusher:subscribe':
        connection.run(() => subscribe(connection, message.data));
        return;
      case 'pusher:unsubscribe':
        connection.run(() => unsubscribe(connection, message.data));
        return;
      case 'pusher:signin':
        connection.run(() => handleSignin(connection, message.data));
        return;
      default:
        connection.error(ERRORS.invalidMessage);
        return;
    }
  }
  if (event.startsWith('client-')) {
    connection.run(() => handleClientEvent(connection, event, message.channel, message.data));
  }
  // Any other event name is ignored, as Reverb does.
}
