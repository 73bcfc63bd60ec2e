/**
 * Per-connection state: identity, subscriptions, liveness and the inbound
 * task queue that keeps a client's messages in order while some of them wait
 * on the cluster.
 */
import type { PreparedFrame, SocketHandler, TransportSocket } from './socket.js';
import type { AppRuntime } from './app.js';
import type { Channel } from './channels/channel.js';
import type { PusherError } from './wire.js';
import { ERRORS, errorFrame } from './wire.js';
import { departAll } from './depart.js';
import { handleMessage, withinMessageRate } from './events.js';

export interface SignedInUser {
  readonly id: string;
  /** The signed `user_data` string. */
  readonly userData: string;
}

type Task = () => void | Promise<void>;

/** Inbound messages one connection may have waiting behind a cluster call (a full subscribe burst fits). */
const MAX_PENDING_TASKS = 256;

export class Connection implements SocketHandler {
  readonly channels = new Map<string, Channel>();
  user: SignedInUser | undefined;
  /** The user ids this connection watches (watchlist events), once signed in. */
  watchlist: readonly string[] | undefined;
  /** Milliseconds timestamp of the last inbound frame of any kind. */
  lastSeen: number;
  /** When the server pinged this silent connection (0 = not pinged). */
  pingedAt = 0;
  /** Set once the client sent a control frame: ping it with control frames too (Reverb #224). */
  usesControlFrames = false;
  /** Set when closing starts: nothing more is written to the socket. */
  closed = false;
  /** Signed in, or joined a private/presence channel (for `authorized_connections_timeout`). */
  authorized = false;
  readonly openedAt: number;
  /** Fixed-window rate limiter state (Reverb's `rate_limiting`). */
  windowStart = 0;
  windowCount = 0;
  /** Inbound messages of any kind in the current second (`max_messages_per_second`). */
  messageWindowStart = 0;
  messageCount = 0;

  /** Tasks waiting behind one that awaits the cluster (created on first need: most connections never wait). */
  private queue: Task[] | undefined;
  private busy = false;

  constructor(
    readonly socketId: string,
    readonly socket: TransportSocket,
    readonly app: AppRuntime,
    now: number,
  ) {
    this.lastSeen = now;
    this.openedAt = now;
  }

  /** SocketHandler: an inbound text frame. */
  message(text: string): void {
    handleMessage(this, text);
  }

  /**
   * SocketHandler: a ping or pong control frame counts as activity. The
   * WebSocket library answers pings itself, so they count against the message
   * rate and their pongs against the output bound like any reply.
   */
  control(isPing: boolean): void {
    const now = this.app.server.now();
    this.lastSeen = now;
    this.pingedAt = 0;
    if (!isPing || this.closed) return;
    this.usesControlFrames = true;
    if (withinMessageRate(this, now)) this.checkBacklog();
  }

  /** SocketHandler: the socket is gone. */
  disconnected(code: number): void {
    this.app.server.connectionClosed(this, code);
  }

  send(text: string): void {
    if (this.closed) return;
    this.socket.send(text);
    this.app.server.observer.frameSent(this, text);
    this.checkBacklog();
  }

  /** Broadcast fast path: the same prepared bytes for every recipient. */
  deliver(frame: PreparedFrame): void {
    if (this.closed) return;
    this.socket.sendPrepared(frame);
    this.checkBacklog();
  }

  /**
   * Every byte queued for this client counts against `max_buffered_output`,
   * whatever wrote it (broadcasts, replies, errors, the library's pongs): a
   * client that does not read as fast as it is written to is closed with 4100.
   */
  private checkBacklog(): void {
    if (this.socket.bufferedAmount <= this.app.server.maxBufferedBytes) return;
    this.app.server.observer.slowConsumer(this);
    const { code, message } = ERRORS.slowConsumer;
    // Closed first, so that the error frame below cannot bring us back here.
    this.closed = true;
    this.socket.send(errorFrame(ERRORS.slowConsumer));
    this.shutDown(code, message);
  }

  /** Sends a `pusher:error` frame; with `close`, closes with the same code so clients react to it. */
  error(error: PusherError, close = false): void {
    this.send(errorFrame(error));
    if (close) this.close(error.code, error.message);
  }

  close(code: number, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.shutDown(code, reason);
  }

  /**
   * Closes the socket and leaves every channel now rather than when the
   * transport reports the close (a peer that never answers the close
   * handshake must not stay a subscriber or presence member meanwhile).
   * Deferred so that a broadcast iterating a channel's subscribers finishes first.
   */
  private shutDown(code: number, reason: string): void {
    this.socket.close(code, reason);
    queueMicrotask(() => this.run(() => departAll(this)));
  }

  /** Runs inbound work in arrival order; synchronous tasks run at once when idle. */
  run(task: Task): void {
    if (!this.busy) return this.execute(task);
    const queue = (this.queue ??= []);
    // Work piles up only while the cluster is slow; a client that keeps sending meanwhile is cut off.
    if (queue.length >= MAX_PENDING_TASKS && !this.closed) this.error(ERRORS.messageFlood, true);
    queue.push(task);
  }

  private execute(task: Task): void {
    let result: void | Promise<void>;
    try {
      result = task();
    } catch (error) {
      this.failed(error);
      return;
    }
    if (!(result instanceof Promise)) return;
    this.busy = true;
    result
      .catch((error: unknown) => this.failed(error))
      .finally(() => {
        this.busy = false;
        this.drain();
      });
  }

  /**
   * A handler threw (e.g. client-event data nested too deeply to re-encode):
   * log it and, as Reverb does for any exception, answer 4200 so the client is
   * never left without a reply. The connection stays open.
   */
  private failed(error: unknown): void {
    this.app.server.observer.handlerFailed(this, error);
    this.error(ERRORS.invalidMessage);
  }

  private drain(): void {
    while (!this.busy) {
      const next = this.queue?.shift();
      if (!next) return;
      this.execute(next);
    }
  }
}
