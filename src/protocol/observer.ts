/**
 * Everything the protocol reports: the --debug stream, logs and the embedding
 * hooks all listen here. Implementations must be cheap; frames are passed as
 * the text that went over the wire.
 */
import type { Connection } from './connection.js';

/** The limits that refuse a client's messages or subscriptions, or API requests: a bounded set, fit for metric labels. */
export type LimitName =
  | 'max_messages_per_second'
  | 'message_flood'
  | 'rate_limiting'
  | 'max_channels_per_connection'
  | 'max_presence_members_per_channel'
  | 'max_presence_user_info_size'
  | 'max_event_name_length'
  | 'max_event_payload_size'
  | 'max_channels_per_event'
  | 'max_batch_size'
  | 'max_backend_events_per_second'
  | 'max_read_requests_per_second';

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
  /** A limit refused something of the connection's (docs/security.md); `limit` names it. */
  limited(connection: Connection, limit: LimitName): void;
  /** A client event was relayed, as `frame`. */
  clientEvent(connection: Connection, channel: string, frame: string): void;
  /** A server event (HTTP API, dashboard) was published to a channel, as `frame`, cluster-wide. */
  published(appId: string, channel: string, frame: string): void;
  handlerFailed(connection: Connection, error: unknown): void;
}
