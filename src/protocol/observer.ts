/**
 * Everything the protocol reports: the --debug stream, logs and the embedding
 * hooks all listen here. Implementations must be cheap; frames are passed as
 * the text that went over the wire.
 */
import type { Connection } from './connection.js';

export interface ProtocolObserver {
  connectionOpened(connection: Connection): void;
  connectionClosed(connection: Connection, code: number): void;
  /** A handshake was refused (unknown app, origin, quota) before a connection existed. */
  connectionRefused(appKey: string, reason: string): void;
  subscribed(connection: Connection, channel: string): void;
  unsubscribed(connection: Connection, channel: string): void;
  messageReceived(connection: Connection, text: string): void;
  frameSent(connection: Connection, text: string): void;
  broadcast(appId: string, channel: string, frame: string, recipients: number): void;
  pinged(connection: Connection): void;
  slowConsumer(connection: Connection): void;
  handlerFailed(connection: Connection, error: unknown): void;
}
