/**
 * Turns channel and member transitions into webhook deliveries for each app's
 * targets, with Pusher's timing: `channel_vacated` and `member_removed` wait
 * VACATE_DELAY_MS and are not sent at all when the channel is occupied again /
 * the user joins again within it — a page reload produces no vacated/occupied
 * pair — and the matching occupied/added is then not sent either.
 *
 * With a journal (scaling on), every delivery and held departure is also
 * kept outside the process until it is over, and entries of servers that
 * are gone are resumed here (journal.ts).
 */
import type { ChannelEvents } from '../protocol/channel-events.js';
import type { Post } from './target-queue.js';
import { TargetQueue } from './target-queue.js';
import { targetWants } from './payload.js';
import type { JournalEntry, JournalRecord, WebhookJournal } from './journal.js';
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
  /** Every request sent, with the status it got (undefined: no response), retries included. */
  readonly attempted?: (app: WebhookApp, status: number | undefined, url: string, body: string) => void;
  readonly journal?: WebhookJournal;
}

type Departure =
  | { readonly name: 'channel_vacated'; readonly channel: string }
  | { readonly name: 'member_removed'; readonly channel: string; readonly user_id: string };

function isDeparture(event: WebhookEvent): event is Departure {
  return event.name === 'channel_vacated' || event.name === 'member_removed';
}

/** Departures of one channel (and user) replace and cancel each other under this key; a channel's key prefixes its members'. */
function departureKey(appId: string, event: Departure): string {
  return event.name === 'member_removed' ? `${appId}\n${event.channel}\n${event.user_id}` : `${appId}\n${event.channel}`;
}

export class WebhookDispatcher implements ChannelEvents {
  private readonly queues = new Map<string, TargetQueue[]>();
  private readonly apps = new Map<string, WebhookApp>();
  /** Delayed vacated / member_removed, by app, channel and (for members) user. */
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; send: () => void | Promise<void>; record?: JournalRecord }>();
  private readonly delayMs: number;
  /**
   * Set once close() sent what was held back: later events (the cluster's
   * last words) are only journaled, for the server that takes over; without
   * a journal they have nowhere to go.
   */
  private closed = false;

  constructor(
    apps: readonly WebhookApp[],
    private readonly options: DispatcherOptions,
  ) {
    this.delayMs = options.vacateDelayMs ?? VACATE_DELAY_MS;
    for (const app of apps) this.configure(app);
    options.journal?.resumeWith((entry, record) => this.resume(entry, record));
  }

  /**
   * Sets up (or replaces, when its webhook settings changed) the targets of
   * an app. Events already queued for replaced targets are still delivered;
   * an app reloaded with the same settings keeps its queues (and their order).
   */
  configure(app: WebhookApp): void {
    const held = this.apps.get(app.id);
    if (held && JSON.stringify(held) === JSON.stringify(app)) return;
    if (app.webhooks.length === 0) {
      this.apps.delete(app.id);
      this.queues.delete(app.id);
      return;
    }
    const { options } = this;
    this.apps.set(app.id, app);
    const attempted = options.attempted;
    const post: Post = attempted
      ? (url, request, timeoutMs) => options.post(url, request, timeoutMs).then((status) => (attempted(app, status, url, request.body), status))
      : options.post;
    const queues = app.webhooks.map(
      (target) =>
        new TargetQueue(app, target, {
          post,
          timeoutMs: options.timeoutMs ?? 10_000,
          maxQueued: options.maxQueuedPerTarget ?? 10_000,
          concurrency: options.concurrencyPerTarget ?? 8,
          failed: (failedTarget, events, status) => options.failed?.(app, failedTarget, events, status),
        }),
    );
    this.queues.set(app.id, queues);
  }

  /** Sends an event to every target of the app that wants it. */
  emit(appId: string, event: WebhookEvent): void {
    const queues = this.wanting(appId, event);
    if (queues.length > 0) this.deliver(appId, event, queues, this.record(appId, event, queues));
  }

  private wanting(appId: string, event: WebhookEvent): TargetQueue[] {
    return (this.queues.get(appId) ?? []).filter((queue) => targetWants(queue.target, event));
  }

  private record(appId: string, event: WebhookEvent, queues: readonly TargetQueue[], due?: number): JournalRecord | undefined {
    return this.options.journal?.record({ app: appId, event, targets: queues.map((queue) => queue.target.url), due });
  }

  /**
   * Queues the event for each target; the record is finished when every one
   * of them is over with it. Once closed, nothing is queued: the entry stays
   * in the journal for the server that takes over.
   */
  private deliver(appId: string, event: WebhookEvent, queues: readonly TargetQueue[], record: JournalRecord | undefined): void {
    if (this.closed) return;
    let left = queues.length;
    const finished = () => {
      if (--left === 0) record?.finished();
    };
    if (left === 0) record?.finished();
    for (const queue of queues) {
      if (queue.add(event, finished)) continue;
      finished();
      this.options.dropped?.(this.apps.get(appId)!, queue.target);
    }
  }

  /** An entry of a server that is gone: delivered like one of ours (a departure when its window ends). */
  private resume(entry: JournalEntry, record: JournalRecord): void {
    // Left in the journal for the server that takes over from this one.
    if (this.closed) return;
    const queues = (this.queues.get(entry.app) ?? []).filter((queue) => entry.targets.includes(queue.target.url));
    const { event, due } = entry;
    if (due === undefined || !isDeparture(event)) return this.deliver(entry.app, event, queues, record);
    this.hold(entry.app, event, queues, record, record.stands, Math.max(0, due - Date.now()));
  }

  channelOccupied(appId: string, channel: string): void {
    if (!this.cancelDelayed(`${appId}\n${channel}`)) this.emit(appId, { name: 'channel_occupied', channel });
  }

  channelVacated(appId: string, channel: string, stillStands?: () => Promise<boolean>): void {
    this.depart(appId, { name: 'channel_vacated', channel }, stillStands);
  }

  memberAdded(appId: string, channel: string, userId: string): void {
    if (!this.cancelDelayed(`${appId}\n${channel}\n${userId}`)) this.emit(appId, { name: 'member_added', channel, user_id: userId });
  }

  memberRemoved(appId: string, channel: string, userId: string, stillStands?: () => Promise<boolean>): void {
    this.depart(appId, { name: 'member_removed', channel, user_id: userId }, stillStands);
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
   * A departure is held even when no target wants it, because holding it is
   * what cancels the matching arrival. The journal's record, when there is
   * one, also answers whether it still stands (and keeps that answer).
   */
  private depart(appId: string, event: Departure, stillStands: (() => Promise<boolean>) | undefined): void {
    if (!this.queues.has(appId)) return;
    const queues = this.wanting(appId, event);
    const record = queues.length > 0 ? this.record(appId, event, queues, Date.now() + this.delayMs) : undefined;
    if (this.closed) return;
    this.hold(appId, event, queues, record, record?.stands ?? stillStands, this.delayMs);
  }

  /**
   * Holds a departure back for the window; an arrival here cancels it at
   * once, one elsewhere in the cluster through `stands` (asked when the
   * window ends; if it cannot be asked, the departure is sent).
   */
  private hold(
    appId: string,
    event: Departure,
    queues: readonly TargetQueue[],
    record: JournalRecord | undefined,
    stands: (() => Promise<boolean>) | undefined,
    delayMs: number,
  ): void {
    const key = departureKey(appId, event);
    this.cancelDelayed(key);
    const emit = () => this.deliver(appId, event, queues, record);
    const confirmed = stands ? () => stands().then((stood) => (stood ? emit() : record?.finished()), emit) : emit;
    // A channel's vacated goes after its members' removals, however the cluster's answers were ordered.
    const send = event.name === 'channel_vacated' ? () => this.sendMembersOf(`${key}\n`).then(confirmed) : confirmed;
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      void send();
    }, delayMs);
    this.delayed.set(key, { timer, send, record });
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
    pending.record?.finished();
    return true;
  }

  /** Graceful shutdown: delayed removals are sent now, then waiting deliveries get up to `timeoutMs`. */
  /** Events of the app waiting or in flight, over all its targets. */
  pending(appId: string): number {
    return (this.queues.get(appId) ?? []).reduce((sum, queue) => sum + queue.pending, 0);
  }

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
