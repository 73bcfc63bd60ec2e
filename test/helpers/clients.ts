/**
 * Client-library helpers for end-to-end tests: the `pusher` server SDK, a
 * pusher-js client whose channel authorization signs locally with the app
 * secret, and bounded waits for callback-style events.
 */
import PusherServer from 'pusher';
import { Pusher } from './pusher-js.js';
import type { StartedServer, TestApp } from './server.js';
import { DEFAULT_APP } from './server.js';

/** A base64 32-byte master key for encrypted channels (tests only). */
export const ENCRYPTION_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/** The official Node server SDK pointed at the test server. */
export function apiClient(server: StartedServer, app: TestApp = DEFAULT_APP): PusherServer {
  return new PusherServer({
    appId: app.app_id,
    key: app.key,
    secret: app.secret,
    host: server.host,
    port: String(server.port),
    useTLS: false,
    timeout: 5000,
    encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY,
  });
}

/** `GET /apps/{id}/channels/{name}` through the SDK, parsed. */
export async function channelInfo(api: PusherServer, channel: string, info?: string): Promise<Record<string, unknown>> {
  const response = await api.get({ path: `/channels/${encodeURIComponent(channel)}`, params: info ? { info } : {} });
  return (await response.json()) as Record<string, unknown>;
}

/** `GET /apps/{id}/channels`, parsed: the occupied channel names. */
export async function occupiedChannels(api: PusherServer): Promise<string[]> {
  const response = await api.get({ path: '/channels' });
  const body = (await response.json()) as { channels: Record<string, unknown> };
  return Object.keys(body.channels);
}

/** Resolves with the first value `register` reports, or rejects after `timeoutMs`. */
export function waitFor<T>(what: string, register: (resolve: (value: T) => void) => void, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    register((value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/**
 * Retries an async check every 20 ms until it passes or `timeoutMs` elapses
 * (for state that settles asynchronously on the server, e.g. after a close).
 */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface PresenceUser {
  user_id: string | number;
  user_info?: unknown;
}

export interface PusherJsOptions {
  app?: TestApp;
  /** The presence identity this client's auth handler signs into channel_data. */
  user?: PresenceUser;
  /** user_data for `pusher.signin()`. */
  userData?: Record<string, unknown>;
  /** Overrides for the pusher-js options. */
  options?: Record<string, unknown>;
}

/** The pusher-js options for the test server, with local channel authorization. */
export function pusherJsOptions(server: StartedServer, opts: PusherJsOptions = {}): Record<string, unknown> {
  const app = opts.app ?? DEFAULT_APP;
  const api = apiClient(server, app);
  return {
    wsHost: server.host,
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: '',
    channelAuthorization: {
      customHandler: (params: { socketId: string; channelName: string }, callback: (error: Error | null, data: unknown) => void) => {
        try {
          const isPresence = params.channelName.startsWith('presence-');
          const user = opts.user ?? { user_id: '1' };
          callback(null, isPresence ? api.authorizeChannel(params.socketId, params.channelName, user as never) : api.authorizeChannel(params.socketId, params.channelName));
        } catch (error) {
          callback(error as Error, null);
        }
      },
    },
    userAuthentication: {
      customHandler: (params: { socketId: string }, callback: (error: Error | null, data: unknown) => void) => {
        callback(null, api.authenticateUser(params.socketId, (opts.userData ?? { id: '1' }) as never));
      },
    },
    ...opts.options,
  };
}

/** A pusher-js client connected to the test server (resolves once `connected`). */
export async function connectPusherJs(server: StartedServer, opts: PusherJsOptions = {}): Promise<Pusher> {
  const app = opts.app ?? DEFAULT_APP;
  const client = new Pusher(app.key, pusherJsOptions(server, opts) as never);
  try {
    await waitFor('pusher-js to connect', (resolve) => {
      if (client.connection.state === 'connected') resolve(undefined);
      client.connection.bind('connected', () => resolve(undefined));
    });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}
