/**
 * Client events (`client-*`): only on private and presence channels (not
 * encrypted), only from members unless the app accepts them from all, never
 * echoed to the sender, with the sender's user_id on presence channels.
 */
import type { AppConfig } from '../config/types.js';
import type { Connection } from './connection.js';
import type { LimitName } from './observer.js';
import { channelKind } from './channels/names.js';
import { ERRORS, clientEventFrame } from './wire.js';

/** The app's event name and payload limits, as for HTTP API events (soketi answers 4301). */
function sizeLimitExceeded(config: AppConfig, event: string, data: unknown): { limit: LimitName; message: string } | undefined {
  if (event.length > config.maxEventNameLength) {
    return { limit: 'max_event_name_length', message: `Client event name is longer than ${config.maxEventNameLength} characters (max_event_name_length).` };
  }
  const limit = config.maxEventPayloadSize;
  if (limit === null || data === undefined) return undefined;
  // The bytes the data takes in the relayed frame's `data`, whether the client sent a string or JSON.
  const size = Buffer.byteLength(typeof data === 'string' ? data : JSON.stringify(data));
  if (size <= limit) return undefined;
  return { limit: 'max_event_payload_size', message: `Client event data is larger than ${limit} bytes (max_event_payload_size).` };
}

export function handleClientEvent(connection: Connection, event: string, channelName: unknown, data: unknown): void {
  if (typeof channelName !== 'string') return connection.error(ERRORS.invalidMessage);
  const app = connection.app;
  const mode = app.config.acceptClientEventsFrom;
  if (mode === 'none') return connection.error(ERRORS.clientEventsDisabled);

  const kind = channelKind(channelName);
  if (!kind.isPrivate || kind.isEncrypted) {
    return connection.error({
      code: 4301,
      message: kind.isEncrypted
        ? 'Client events are not supported on encrypted channels.'
        : 'Client events are only supported on private and presence channels.',
    });
  }
  const channel = connection.channels.get(channelName);
  if (!channel && mode === 'members') return connection.error(ERRORS.notMember);
  // After the checks Reverb makes, so that what it answers stays the same.
  const exceeded = sizeLimitExceeded(app.config, event, data);
  if (exceeded) {
    app.server.observer.limited(connection, exceeded.limit);
    return connection.error({ code: 4301, message: exceeded.message });
  }

  const member = channel?.subscribers.get(connection);
  const frame = clientEventFrame(event, channelName, data, member?.userIdJson);
  app.server.cluster.publish({ appId: app.id, channel: channelName, frame, exceptSocketId: connection.socketId });
  app.server.observer.clientEvent(connection, channelName, frame);
  app.server.channelEvents.clientEvent(app.id, channelName, event, data, connection.socketId, member?.userId);
}
