/**
 * A raw `ws` client for protocol tests: queues every frame and close event so
 * a test can await "the next message" with a bound instead of sleeping.
 */
import WebSocket from 'ws';
import { hmac } from './sign.js';

/** ws's options; TLS ones such as `servername` are passed on to tls.connect although ws's type leaves them out. */
type ClientOptions = WebSocket.ClientOptions & { servername?: string };

export interface Frame {
  event: string;
  data?: unknown;
  channel?: string;
  user_id?: unknown;
  [key: string]: unknown;
}

export class RawClient {
  readonly ws: WebSocket;
  readonly frames: string[] = [];
  socketId = '';
  closeCode: number | undefined;
  closeReason = '';
  private waiters: (() => void)[] = [];
  private readonly opened: Promise<void>;
  private readonly closedPromise: Promise<void>;

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data) => {
      this.frames.push(data.toString());
      this.wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closedPromise = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve();
      }),
    );
    this.ws.on('error', () => undefined);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Opens and reads `pusher:connection_established`. */
  static async connect(url: string, options: ClientOptions = {}): Promise<RawClient> {
    const client = new RawClient(url, options);
    await client.opened;
    const first = await client.next();
    if (first.event !== 'pusher:connection_established') throw new Error(`expected connection_established, got ${JSON.stringify(first)}`);
    client.socketId = (JSON.parse(first.data as string) as { socket_id: string }).socket_id;
    return client;
  }

  async open(): Promise<void> {
    await this.opened;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next raw frame text, waiting up to `timeoutMs`. */
  async nextRaw(timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode} ${this.closeReason}) while waiting for a frame`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  async next(timeoutMs = 3000): Promise<Frame> {
    return JSON.parse(await this.nextRaw(timeoutMs)) as Frame;
  }

  /** Waits for the next frame with the given event, skipping others. */
  async nextEvent(event: string, timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame.event === event) return frame;
    }
  }

  /** Asserts that no frame arrives within `ms` (for "is not delivered" checks). */
  async expectSilence(ms = 300): Promise<void> {
    const frame = await this.nextRaw(ms).catch(() => undefined);
    if (frame !== undefined) throw new Error(`expected no frame, got ${frame}`);
  }

  async waitForClose(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closedPromise,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
        }),
      ]);
    } finally {
      // A pending timer would keep the test process alive for the whole timeout.
      clearTimeout(timer);
    }
    return { code: this.closeCode!, reason: this.closeReason };
  }

  /** Subscribes (signing private/presence channels with `secret`) and returns the first reply. */
  async subscribe(channel: string, options: { key?: string; secret?: string; channelData?: unknown } = {}): Promise<Frame> {
    const channelData =
      options.channelData === undefined ? undefined : typeof options.channelData === 'string' ? options.channelData : JSON.stringify(options.channelData);
    let auth = '';
    if ((channel.startsWith('private-') || channel.startsWith('presence-')) && options.secret) {
      const toSign = channelData === undefined ? `${this.socketId}:${channel}` : `${this.socketId}:${channel}:${channelData}`;
      auth = `${options.key}:${hmac(options.secret, toSign)}`;
    }
    this.send({ event: 'pusher:subscribe', data: { auth, channel, ...(channelData === undefined ? {} : { channel_data: channelData }) } });
    return this.next();
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}
