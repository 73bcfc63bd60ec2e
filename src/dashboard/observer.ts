/**
 * What the dashboard learns from the protocol: message counts for the charts
 * (one addition each), recent errors (rare), and, only while a console
 * watches the app, the debug console's events.
 */
import type { ProtocolObserver } from '../protocol/observer.js';
import type { Connection } from '../protocol/connection.js';
import type { History } from './history.js';
import { NO_APP, errorReporter, type RecentErrors } from './errors.js';
import { cut, type DebugEvent, type DebugFeed } from './feed.js';

export interface ObserverParts {
  readonly history: History;
  readonly errors: RecentErrors;
  readonly feed: DebugFeed;
  /** The app id of an app key, for refused handshakes. */
  readonly appIdOfKey: (key: string) => string | undefined;
  readonly now?: () => number;
}

const ERROR_PREFIX = '{"event":"pusher:error"';
const SUBSCRIPTION_ERROR_PREFIX = '{"event":"pusher:subscription_error"';

/** `{event, data, channel}` of a frame this server encoded; undefined parts when it is not one. */
function frameParts(frame: string): { event?: string; data?: string; channel?: string } {
  try {
    const parsed = JSON.parse(frame) as { event?: unknown; data?: unknown; channel?: unknown };
    return {
      event: typeof parsed.event === 'string' ? parsed.event : undefined,
      data: typeof parsed.data === 'string' ? parsed.data : parsed.data === undefined ? undefined : JSON.stringify(parsed.data),
      channel: typeof parsed.channel === 'string' ? parsed.channel : undefined,
    };
  } catch {
    return {};
  }
}

export function dashboardObserver(parts: ObserverParts): Partial<ProtocolObserver> {
  const { history, errors, feed } = parts;
  const now = parts.now ?? Date.now;

  const emit = (event: Omit<DebugEvent, 'time'>): void => feed.emit({ ...event, time: now() } as DebugEvent);
  const recordError = errorReporter(errors, feed);
  const connectionEvent = (type: DebugEvent['type'], connection: Connection, extra: Partial<DebugEvent> = {}): void => {
    if (feed.active(connection.app.id)) emit({ type, app: connection.app.id, socket_id: connection.socketId, ...extra });
  };
  /** A `pusher:error` or subscription error frame sent to a client: rare, so parsed. */
  const errorSent = (connection: Connection, text: string, kind: string): void => {
    const { data, channel } = frameParts(text);
    let payload: { code?: unknown; message?: unknown; error?: unknown; status?: unknown } = {};
    try {
      payload = JSON.parse(data ?? '{}') as typeof payload;
    } catch {
      // Left empty: the message below says so.
    }
    const message = typeof payload.message === 'string' ? payload.message : typeof payload.error === 'string' ? payload.error : 'error';
    const code = typeof payload.code === 'number' ? payload.code : typeof payload.status === 'number' ? payload.status : undefined;
    recordError(connection.app.id, { kind, message: cut(message, 300), code, socket_id: connection.socketId, channel });
  };

  return {
    connectionOpened: (connection) => connectionEvent('connection', connection),
    connectionClosed: (connection, code) => connectionEvent('disconnection', connection, { code }),
    connectionRefused: (appKey, reason) => {
      const appId = parts.appIdOfKey(appKey);
      recordError(appId ?? NO_APP, { kind: 'refused', message: appId ? reason : `${reason} (key ${cut(appKey, 64)})` });
    },
    subscribed: (connection, channel) => connectionEvent('subscribed', connection, { channel }),
    unsubscribed: (connection, channel) => connectionEvent('unsubscribed', connection, { channel }),
    messageReceived: (connection) => {
      history.tally(connection.app.id).received++;
    },
    frameSent: (connection, text) => {
      history.tally(connection.app.id).sent++;
      if (text.startsWith(ERROR_PREFIX)) errorSent(connection, text, 'client_error');
      else if (text.startsWith(SUBSCRIPTION_ERROR_PREFIX)) errorSent(connection, text, 'subscription_error');
    },
    broadcast: (appId, _channel, _frame, recipients) => {
      history.tally(appId).sent += recipients;
    },
    slowConsumer: (connection) =>
      recordError(connection.app.id, { kind: 'slow_consumer', message: 'Closed for not reading (max_buffered_output)', code: 4100, socket_id: connection.socketId }),
    limited: (connection, limit) => recordError(connection.app.id, { kind: 'limit', message: `Refused by ${limit}`, socket_id: connection.socketId }),
    handlerFailed: (connection, error) =>
      recordError(connection.app.id, { kind: 'handler_failed', message: cut(error instanceof Error ? error.message : String(error), 300), socket_id: connection.socketId }),
    clientEvent: (connection, channel, frame) => {
      if (!feed.active(connection.app.id)) return;
      const { event, data } = frameParts(frame);
      emit({ type: 'client_event', app: connection.app.id, socket_id: connection.socketId, channel, event, data: data === undefined ? undefined : cut(data) });
    },
    published: (appId, channel, frame) => {
      if (!feed.active(appId)) return;
      const { event, data } = frameParts(frame);
      emit({ type: 'api_message', app: appId, channel, event, data: data === undefined ? undefined : cut(data) });
    },
  };
}
