/**
 * The deliveries of one app's webhook target. Events wait in one lane per
 * channel: a channel's events leave in the order they happened, one request
 * at a time (a retry holds back that channel only), while different channels
 * go out concurrently. The number of waiting events is bounded; past it new
 * events are dropped and counted, never buffered without limit. Each event
 * comes with what to call when its delivery is over (its journal entry can
 * go); an event given up at shutdown is not over: it is left for a server
 * taking over.
 */
import { signedRequest, type SignedRequest } from './payload.js';
import { RETRY_FOR_MS, backoffMs, isRetryable } from './retry.js';
import type { WebhookApp, WebhookEvent, WebhookTarget } from './types.js';

/** Sends one request; resolves to the HTTP status, or undefined when no response came. */
export type Post = (url: string, request: SignedRequest, timeoutMs: number) => Promise<number | undefined>;

export interface TargetQueueOptions {
  readonly post: Post;
  readonly timeoutMs: number;
  /** Events that may wait for this target. */
  readonly maxQueued: number;
  /** Requests in flight at once (different channels). */
  readonly concurrency: number;
  /** A delivery failed for good (non-retryable status, or retries exhausted). */
  readonly failed: (target: WebhookTarget, events: number, status: number | undefined) => void;
  readonly now?: () => number;
}

/** A waiting event, and what to call when its delivery is over (delivered, or failed for good). */
interface Queued {
  readonly event: WebhookEvent;
  readonly finished: () => void;
}

export class TargetQueue {
  private readonly lanes = new Map<string, Queued[]>();
  /** Channels with waiting events and no request in flight, oldest first. */
  private readonly ready = new Set<string>();
  private readonly busy = new Set<string>();
  private waiting = 0;
  private inFlight = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idle: (() => void)[] = [];
  /** Deliveries waiting to retry: woken at shutdown for a last attempt instead of holding it up. */
  private readonly backingOff = new Set<() => void>();
  /** Events dropped because the queue was full. */
  dropped = 0;

  constructor(
    private readonly app: WebhookApp,
    readonly target: WebhookTarget,
    private readonly options: TargetQueueOptions,
  ) {}

  get pending(): number {
    return this.waiting + this.inFlight;
  }

  /** Queues an event; false when the queue is full (the event is dropped, `finished` is not called). */
  add(event: WebhookEvent, finished: () => void): boolean {
    if (this.stopped) return false;
    if (this.waiting >= this.options.maxQueued) {
      this.dropped++;
      return false;
    }
    let lane = this.lanes.get(event.channel);
    if (!lane) this.lanes.set(event.channel, (lane = []));
    lane.push({ event, finished });
    this.waiting++;
    if (!this.busy.has(event.channel)) this.ready.add(event.channel);
    this.schedule();
    return true;
  }

  /** With batching, events of one window leave together; without, at once. */
  private schedule(): void {
    const batching = this.app.batching;
    if (!batching) return this.pump();
    if (this.waiting >= batching.maxEvents) return this.pump();
    if (this.batchTimer) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.pump();
    }, batching.windowMs);
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.ready.size > 0) {
      const { items, channels } = this.take();
      this.inFlight++;
      void this.deliver(items).finally(() => this.settled(channels));
    }
  }

  /** The next request's events: one event, or with batching the waiting events of ready channels up to the batch size. */
  private take(): { items: Queued[]; channels: string[] } {
    const max = this.app.batching?.maxEvents ?? 1;
    const items: Queued[] = [];
    const channels: string[] = [];
    for (const channel of this.ready) {
      if (items.length >= max) break;
      const lane = this.lanes.get(channel)!;
      const taken = lane.splice(0, max - items.length);
      items.push(...taken);
      this.waiting -= taken.length;
      if (lane.length === 0) this.lanes.delete(channel);
      this.ready.delete(channel);
      this.busy.add(channel);
      channels.push(channel);
    }
    return { items, channels };
  }

  private settled(channels: readonly string[]): void {
    this.inFlight--;
    for (const channel of channels) {
      this.busy.delete(channel);
      if (this.lanes.has(channel)) this.ready.add(channel);
    }
    if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
    else this.pump();
  }

  private async deliver(items: readonly Queued[]): Promise<void> {
    const now = this.options.now ?? Date.now;
    const started = now();
    const request = signedRequest(this.app, this.target, items.map((item) => item.event), started);
    for (let attempt = 1; ; attempt++) {
      const status = await this.options.post(this.target.url, request, this.options.timeoutMs);
      if (status !== undefined && status >= 200 && status < 300) return finish(items);
      const delay = backoffMs(attempt);
      if (this.stopped || !isRetryable(status) || now() + delay - started > RETRY_FOR_MS) {
        this.options.failed(this.target, items.length, status);
        // Given up because this server stops: not over, a server taking over retries it.
        if (!this.stopped || !isRetryable(status)) finish(items);
        return;
      }
      await this.backOff(delay);
    }
  }

  private backOff(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.backingOff.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, delayMs).unref();
      this.backingOff.add(wake);
    });
  }

  /**
   * Graceful shutdown: sends what is waiting, gives deliveries waiting to
   * retry their last attempt now (no new retries are started once stopped)
   * and resolves when nothing is pending or after `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.batchTimer) {
      clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      this.pump();
    }
    this.stopped = true;
    for (const wake of [...this.backingOff]) wake();
    if (this.pending === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function finish(items: readonly Queued[]): void {
  for (const item of items) item.finished();
}
