/**
 * HTTP API test helpers: the `pusher` server SDK pointed at a test server,
 * hand-signed requests with JSON decoding, raw TCP requests, and WebSocket
 * subscribers that join presence channels or sign in as a user.
 */
import { connect, type Socket } from 'node:net';
import { DEFAULT_APP, type StartedServer, type TestApp } from './server.js';
import { hmac, signedRequest, type SignOptions } from './sign.js';
import { RawClient } from './ws-client.js';

/** The official Node server SDK pointed at a test server (one definition, in clients.ts). */
export { apiClient as sdk } from './clients.js';

export interface ApiResult {
  status: number;
  body: string;
  headers: Headers;
  /** The body parsed as JSON (throws if it is not JSON). */
  json(): unknown;
}

export type ApiOptions = Partial<SignOptions> & {
  urlPath?: string;
  encode?: (value: string) => string;
  headers?: Record<string, string>;
  app?: TestApp;
};

/** A request signed like pusher-http-node does; `path` is relative to `/apps/{id}` unless it starts with `/apps` or `/`. */
export async function api(server: StartedServer, method: string, path: string, options: ApiOptions = {}): Promise<ApiResult> {
  const app = options.app ?? DEFAULT_APP;
  const fullPath = path.startsWith('/') ? path : `/apps/${app.app_id}/${path}`;
  const response = await signedRequest(server.url, {
    method,
    key: app.key,
    secret: app.secret,
    ...options,
    path: options.path ?? fullPath,
  });
  return { ...response, json: () => JSON.parse(response.body) };
}

/** POSTs `body` (an object is JSON-encoded) to `/apps/{id}/{path}`. */
export function post(server: StartedServer, path: string, body: unknown, options: ApiOptions = {}): Promise<ApiResult> {
  return api(server, 'POST', path, { ...options, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export function get(server: StartedServer, path: string, params: Record<string, string> = {}, options: ApiOptions = {}): Promise<ApiResult> {
  return api(server, 'GET', path, { ...options, params });
}

/** Reads a pusher SDK response as `{status, body}` (the SDK resolves with a node-fetch Response). */
export async function sdkResult(promise: Promise<{ status: number; text(): Promise<string> }>): Promise<{ status: number; body: string }> {
  const response = await promise;
  return { status: response.status, body: await response.text() };
}

/** Awaits a rejected SDK call and returns its RequestError fields. */
export async function sdkError(promise: Promise<unknown>): Promise<{ status: number; body: string }> {
  try {
    await promise;
  } catch (error) {
    const requestError = error as { status?: number; body?: string };
    return { status: requestError.status ?? 0, body: requestError.body ?? '' };
  }
  throw new Error('expected the SDK call to fail');
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 response (Content-Length framed) from raw bytes, or undefined if incomplete. */
export function parseRawResponse(raw: string): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = raw.slice(end + 4);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body: body.slice(0, length) };
}

/** A TCP connection to the server that records what it receives and when it closes. */
export class RawSocket {
  readonly socket: Socket;
  received = '';
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.received += chunk.toString();
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawSocket(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Waits until `done()` holds, for at most `timeoutMs`. */
  async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async response(timeoutMs = 3000): Promise<RawResponse> {
    await this.until(() => parseRawResponse(this.received) !== undefined || this.closed, timeoutMs, 'an HTTP response');
    const response = parseRawResponse(this.received);
    if (!response) throw new Error(`connection closed without a complete response: ${JSON.stringify(this.received)}`);
    return response;
  }

  async waitForClose(timeoutMs: number): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the server to close the connection');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A raw WebSocket client connected to the default app (or `key`), under the server path `prefix`. */
export function connectClient(server: StartedServer, key = DEFAULT_APP.key, prefix = ''): Promise<RawClient> {
  return RawClient.connect(`${server.wsUrl}${prefix}/app/${key}?protocol=7&client=js&version=8.6.0`);
}

/** Subscribes and asserts `subscription_succeeded`. */
export async function join(client: RawClient, channel: string, channelData?: unknown, app: TestApp = DEFAULT_APP): Promise<void> {
  const reply = await client.subscribe(channel, { key: app.key, secret: app.secret, channelData });
  if (reply.event !== 'pusher_internal:subscription_succeeded') {
    throw new Error(`subscribing to ${channel} failed: ${JSON.stringify(reply)}`);
  }
}

/** Sends `pusher:signin` with a correctly signed `user_data` and awaits `signin_success`. */
export async function signin(client: RawClient, userData: Record<string, unknown>, app: TestApp = DEFAULT_APP): Promise<void> {
  const json = JSON.stringify(userData);
  client.send({
    event: 'pusher:signin',
    data: { auth: `${app.key}:${hmac(app.secret, `${client.socketId}::user::${json}`)}`, user_data: json },
  });
  await client.nextEvent('pusher:signin_success');
}

/** Runs `fn` with clients that are always closed afterwards. */
export async function withClients<T>(clients: Promise<RawClient>[], fn: (clients: RawClient[]) => Promise<T>): Promise<T> {
  const settled = await Promise.allSettled(clients);
  const opened = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    for (const client of opened) client.close();
    throw failed.reason;
  }
  try {
    return await fn(opened);
  } finally {
    for (const client of opened) client.close();
  }
}

/** Round-trips a `pusher:ping`: every frame the client sent before it has been handled by the server. */
export async function barrier(client: RawClient): Promise<void> {
  client.send({ event: 'pusher:ping', data: {} });
  await client.nextEvent('pusher:pong');
}

/**
 * Retries `check` until it stops throwing, for at most `timeoutMs`; for state
 * the server changes asynchronously (a closed socket leaving its channels).
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
