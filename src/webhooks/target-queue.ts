/**
 * The deliveries of one app's webhook target. Events wait in one lane per
 * channel: a channel's events leave in the order they happened, one request
 * at a time (a retry holds back that channel only), while different channels
 * go out concurrently. The number of waiting events is bounded; past it new
 * events are dropped and counted, never buffered without limit.
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

export class TargetQueue {
  private readonly lanes = new Map<string, WebhookEvent[]>();
  /** Channels with waiting events and no request in flight, oldest first. */
  private readonly ready = new Set<string>();
  private readonly busy = new Set<string>();
  private waiting = 0;
  private inFlight = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idle: (() => void)[] = [];
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

  /** Queues an event; false when the queue is full (the event is dropped). */
  add(event: WebhookEvent): boolean {
    if (this.stopped) return false;
    if (this.waiting >= this.options.maxQueued) {
      this.dropped++;
      return false;
    }
    let lane = this.lanes.get(event.channel);
    if (!lane) this.lanes.set(event.channel, (lane = []));
    lane.push(event);
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
      const { events, channels } = this.take();
      this.inFlight++;
      void this.deliver(events).finally(() => this.settled(channels));
    }
  }

  /** The next request's events: one event, or with batching the waiting events of ready channels up to the batch size. */
  private take(): { events: WebhookEvent[]; channels: string[] } {
    const max = this.app.batching?.maxEvents ?? 1;
    const events: WebhookEvent[] = [];
    const channels: string[] = [];
    for (const channel of this.ready) {
      if (events.length >= max) break;
      const lane = this.lanes.get(channel)!;
      const taken = lane.splice(0, max - events.length);
      events.push(...taken);
      this.waiting -= taken.length;
      if (lane.length === 0) this.lanes.delete(channel);
      this.ready.delete(channel);
      this.busy.add(channel);
      channels.push(channel);
    }
    return { events, channels };
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

  private async deliver(events: WebhookEvent[]): Promise<void> {
    const now = this.options.now ?? Date.now;
    const started = now();
    const request = signedRequest(this.app, this.target, events, started);
    for (let attempt = 1; ; attempt++) {
      const status = await this.options.post(this.target.url, request, this.options.timeoutMs);
      if (status !== undefined && status >= 200 && status < 300) return;
      const delay = backoffMs(attempt);
      if (this.stopped || !isRetryable(status) || now() + delay - started > RETRY_FOR_MS) {
        this.options.failed(this.target, events.length, status);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }

  /**
   * Graceful shutdown: sends what is waiting (no new retries are started once
   * stopped) and resolves when nothing is pending or after `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.batchTimer) {
      clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      this.pump();
    }
    this.stopped = true;
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
