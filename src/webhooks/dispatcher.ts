/**
 * Turns channel and member transitions into webhook deliveries for each app's
 * targets, with Pusher's timing: `channel_vacated` and `member_removed` wait
 * VACATE_DELAY_MS and are not sent at all when the channel is occupied again /
 * the user joins again within it — a page reload produces no vacated/occupied
 * pair — and the matching occupied/added is then not sent either.
 */
import type { ChannelEvents } from '../protocol/channel-events.js';
import type { Post } from './target-queue.js';
import { TargetQueue } from './target-queue.js';
import { targetWants } from './payload.js';
import type { WebhookApp, WebhookEvent, WebhookTarget } from './types.js';

export const VACATE_DELAY_MS = 3_000;

export interface DispatcherOptions {
  readonly post: Post;
  readonly timeoutMs?: number;
  readonly maxQueuedPerTarget?: number;
  readonly concurrencyPerTarget?: number;
  readonly vacateDelayMs?: number;
  readonly failed?: (app: WebhookApp, target: WebhookTarget, events: number, status: number | undefined) => void;
  readonly dropped?: (app: WebhookApp, target: WebhookTarget) => void;
}

export class WebhookDispatcher implements ChannelEvents {
  private readonly queues = new Map<string, TargetQueue[]>();
  private readonly apps = new Map<string, WebhookApp>();
  /** Delayed vacated / member_removed, by app, channel and (for members) user. */
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; send: () => void | Promise<void> }>();
  private readonly delayMs: number;
  /** Set once close() sent what was held back: later events (the cluster's last words) have nowhere to go. */
  private closed = false;

  constructor(
    apps: readonly WebhookApp[],
    private readonly options: DispatcherOptions,
  ) {
    this.delayMs = options.vacateDelayMs ?? VACATE_DELAY_MS;
    for (const app of apps) {
      if (app.webhooks.length === 0) continue;
      this.apps.set(app.id, app);
      const queues = app.webhooks.map(
        (target) =>
          new TargetQueue(app, target, {
            post: options.post,
            timeoutMs: options.timeoutMs ?? 10_000,
            maxQueued: options.maxQueuedPerTarget ?? 10_000,
            concurrency: options.concurrencyPerTarget ?? 8,
            failed: (failedTarget, events, status) => options.failed?.(app, failedTarget, events, status),
          }),
      );
      this.queues.set(app.id, queues);
    }
  }

  /** Sends an event to every target of the app that wants it. */
  emit(appId: string, event: WebhookEvent): void {
    const queues = this.queues.get(appId);
    if (!queues || this.closed) return;
    for (const queue of queues) {
      if (targetWants(queue.target, event) && !queue.add(event)) this.options.dropped?.(this.apps.get(appId)!, queue.target);
    }
  }

  channelOccupied(appId: string, channel: string): void {
    if (!this.cancelDelayed(`${appId}\n${channel}`)) this.emit(appId, { name: 'channel_occupied', channel });
  }

  channelVacated(appId: string, channel: string, stillStands?: () => Promise<boolean>): void {
    this.delay(appId, `${appId}\n${channel}`, stillStands, () => this.emit(appId, { name: 'channel_vacated', channel }));
  }

  memberAdded(appId: string, channel: string, userId: string): void {
    if (!this.cancelDelayed(`${appId}\n${channel}\n${userId}`)) this.emit(appId, { name: 'member_added', channel, user_id: userId });
  }

  memberRemoved(appId: string, channel: string, userId: string, stillStands?: () => Promise<boolean>): void {
    this.delay(appId, `${appId}\n${channel}\n${userId}`, stillStands, () =>
      this.emit(appId, { name: 'member_removed', channel, user_id: userId }),
    );
  }

  clientEvent(appId: string, channel: string, event: string, data: unknown, socketId: string, userId: string | undefined): void {
    if (!this.queues.has(appId)) return;
    // Pusher's webhook carries the data as a string: what the client sent, JSON-encoded when it was not one.
    const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
    const base = { name: 'client_event', channel, event, data: text, socket_id: socketId } as const;
    this.emit(appId, userId === undefined ? base : { ...base, user_id: userId });
  }

  cacheMiss(appId: string, channel: string): void {
    this.emit(appId, { name: 'cache_miss', channel });
  }

  subscriptionCount(appId: string, channel: string, count: number): void {
    this.emit(appId, { name: 'subscription_count', channel, subscription_count: count });
  }

  /**
   * Holds a departure back for the window; an arrival here cancels it at
   * once, one elsewhere in the cluster through `stillStands` (asked when the
   * window ends; if it cannot be asked, the departure is sent).
   */
  private delay(appId: string, key: string, stillStands: (() => Promise<boolean>) | undefined, emit: () => void): void {
    if (!this.queues.has(appId)) return;
    this.cancelDelayed(key);
    const confirmed = stillStands ? () => stillStands().then((stands) => void (stands && emit()), emit) : emit;
    // A channel's vacated goes after its members' removals, however the cluster's answers were ordered.
    const send = key.split('\n').length === 2 ? () => this.sendMembersOf(`${key}\n`).then(confirmed) : confirmed;
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      void send();
    }, this.delayMs);
    this.delayed.set(key, { timer, send });
  }

  /** Sends the held-back member removals under a channel's key prefix now, in the order they were held. */
  private async sendMembersOf(prefix: string): Promise<void> {
    const sends: (void | Promise<void>)[] = [];
    for (const [key, pending] of this.delayed) {
      if (!key.startsWith(prefix)) continue;
      clearTimeout(pending.timer);
      this.delayed.delete(key);
      sends.push(pending.send());
    }
    await Promise.all(sends);
  }

  /** True when a delayed removal was pending (and is now cancelled). */
  private cancelDelayed(key: string): boolean {
    const pending = this.delayed.get(key);
    if (!pending) return false;
    clearTimeout(pending.timer);
    this.delayed.delete(key);
    return true;
  }

  /** Graceful shutdown: delayed removals are sent now, then waiting deliveries get up to `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    const delayed = [...this.delayed.values()];
    this.delayed.clear();
    await Promise.all(
      delayed.map(({ timer, send }) => {
        clearTimeout(timer);
        return send();
      }),
    );
    this.closed = true;
    const queues = [...this.queues.values()].flat();
    await Promise.all(queues.map((queue) => queue.drain(timeoutMs)));
  }
}

/** The production `Post`: fetch with a timeout; any failure to get a response is `undefined`. */
export const fetchPost: Post = async (url, request, timeoutMs) => {
  try {
    const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(timeoutMs) });
    // Read the body so the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined);
    return response.status;
  } catch {
    return undefined;
  }
};
