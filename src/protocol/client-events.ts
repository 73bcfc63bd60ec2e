/**
 * Client events (`client-*`): only on private and presence channels (not
 * encrypted), only from members unless the app accepts them from all, never
 * echoed to the sender, with the sender's user_id on presence channels.
 */
import type { Connection } from './connection.js';
import { channelKind } from './channels/names.js';
import { ERRORS, clientEventFrame } from './wire.js';

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

  const member = channel?.subscribers.get(connection);
  const frame = clientEventFrame(event, channelName, data, member?.userIdJson);
  app.server.cluster.publish({ appId: app.id, channel: channelName, frame, exceptSocketId: connection.socketId });
  app.server.observer.clientEvent(connection, channelName);
  app.server.channelEvents.clientEvent(app.id, channelName, event, data, connection.socketId, member?.userId);
}
