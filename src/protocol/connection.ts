/**
 * Per-connection state: identity, subscriptions, liveness and the inbound
 * task queue that keeps a client's messages in order while some of them wait
 * on the cluster.
 */
import type { PreparedFrame, SocketHandler, TransportSocket } from '../transport/types.js';
import type { AppRuntime } from './app.js';
import type { Channel } from './channels/channel.js';
import type { PusherError } from './wire.js';
import { ERRORS, errorFrame } from './wire.js';
import { unsubscribeAll } from './subscriptions.js';
import { handleMessage } from './events.js';

export interface SignedInUser {
  readonly id: string;
  /** The signed `user_data` string. */
  readonly userData: string;
}

type Task = () => void | Promise<void>;

export class Connection implements SocketHandler {
  readonly channels = new Map<string, Channel>();
  user: SignedInUser | undefined;
  /** Milliseconds timestamp of the last inbound frame of any kind. */
  lastSeen: number;
  /** When the server pinged this silent connection (0 = not pinged). */
  pingedAt = 0;
  /** Set once the client sent a control frame: ping it with control frames too (Reverb #224). */
  usesControlFrames = false;
  /** Set when closing starts: nothing more is written to the socket. */
  closed = false;
  /** Fixed-window rate limiter state (Reverb's `rate_limiting`). */
  windowStart = 0;
  windowCount = 0;

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
  }

  /** SocketHandler: an inbound text frame. */
  message(text: string): void {
    handleMessage(this, text);
  }

  /** SocketHandler: a ping or pong control frame counts as activity. */
  control(isPing: boolean): void {
    this.lastSeen = this.app.server.now();
    this.pingedAt = 0;
    if (isPing) this.usesControlFrames = true;
  }

  /** SocketHandler: the socket is gone. */
  disconnected(code: number): void {
    this.app.server.connectionClosed(this, code);
  }

  send(text: string): void {
    if (this.closed) return;
    this.socket.send(text);
    this.app.server.observer.frameSent(this, text);
  }

  /** Broadcast fast path: the same prepared bytes for every recipient. */
  deliver(frame: PreparedFrame): void {
    if (this.closed) return;
    this.socket.sendPrepared(frame);
    if (this.socket.bufferedAmount > this.app.server.maxBufferedBytes) {
      this.app.server.observer.slowConsumer(this);
      this.error(ERRORS.slowConsumer, true);
      // A client that does not read can hold its socket until the transport's
      // close timeout (30 s with ws): leave every channel now, so it stops
      // counting as a subscriber or presence member. Deferred so that the
      // broadcast iterating the channel's subscribers finishes first.
      queueMicrotask(() => this.run(() => unsubscribeAll(this)));
    }
  }

  /** Sends a `pusher:error` frame; with `close`, closes with the same code so clients react to it. */
  error(error: PusherError, close = false): void {
    this.send(errorFrame(error));
    if (close) this.close(error.code, error.message);
  }

  close(code: number, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }

  /** Runs inbound work in arrival order; synchronous tasks run at once when idle. */
  run(task: Task): void {
    if (this.busy) (this.queue ??= []).push(task);
    else this.execute(task);
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
