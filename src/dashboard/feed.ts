/**
 * The debug console's live feed: what happens to an app's connections and
 * channels, as events for the consoles watching that app. Nothing is built
 * while nobody watches (`active` is a boolean test, then a map lookup), so the
 * protocol's hot paths pay nothing without an open console. With scaling on,
 * a relay (relay.ts) brings the events of the other servers.
 */

export type DebugEventType =
  | 'connection'
  | 'disconnection'
  | 'subscribed'
  | 'unsubscribed'
  | 'client_event'
  | 'api_message'
  | 'webhook'
  | 'error';

export const DEBUG_EVENT_TYPES: readonly DebugEventType[] = [
  'connection',
  'disconnection',
  'subscribed',
  'unsubscribed',
  'client_event',
  'api_message',
  'webhook',
  'error',
];

export interface DebugEvent {
  readonly type: DebugEventType;
  readonly app: string;
  /** Unix milliseconds. */
  readonly time: number;
  readonly socket_id?: string;
  readonly channel?: string;
  readonly event?: string;
  /** Event data as sent, cut at 2 KB. */
  readonly data?: string;
  readonly code?: number;
  readonly status?: number | null;
  readonly detail?: string;
  /** The server it happened on, when it was another one of the cluster. */
  readonly node?: string;
}

export type Watcher = (event: DebugEvent) => void;

/** What the cluster relay offers the feed. */
export interface FeedRelay {
  /** Whether a console on another server watches the app. */
  wants(appId: string): boolean;
  /** Whether a console on another server watches any app. */
  wantsAny(): boolean;
  /** Sends an event of this server to those consoles. */
  send(event: DebugEvent): void;
  /** This server's consoles of the app: the first came, or the last left. */
  watching(appId: string, on: boolean): void;
}

const MAX_DATA = 2048;

export function cut(text: string, max = MAX_DATA): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export class DebugFeed {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private relay: FeedRelay | undefined;
  /** True while no console watches anywhere this server knows of: the observer's first test. */
  idle = true;

  useRelay(relay: FeedRelay): void {
    this.relay = relay;
  }

  /** Recomputes `idle` (the relay calls it when remote consoles come or go). */
  refresh(): void {
    this.idle = this.watchers.size === 0 && this.relay?.wantsAny() !== true;
  }

  active(appId: string): boolean {
    return !this.idle && (this.watchers.has(appId) || this.relay?.wants(appId) === true);
  }

  /** Starts calling `watcher` with the app's events; returns the function that stops it. */
  watch(appId: string, watcher: Watcher): () => void {
    let set = this.watchers.get(appId);
    if (!set) {
      this.watchers.set(appId, (set = new Set()));
      this.relay?.watching(appId, true);
    }
    set.add(watcher);
    this.idle = false;
    return () => {
      if (!set.delete(watcher) || set.size > 0) return;
      this.watchers.delete(appId);
      this.relay?.watching(appId, false);
      this.refresh();
    };
  }

  /** An event of this server: to the consoles here and, when wanted, elsewhere. */
  emit(event: DebugEvent): void {
    this.deliver(event);
    if (this.relay?.wants(event.app)) this.relay.send(event);
  }

  /** An event for the consoles of this server only (one relayed from another server). */
  deliver(event: DebugEvent): void {
    for (const watcher of this.watchers.get(event.app) ?? []) watcher(event);
  }

  watchedApps(): string[] {
    return [...this.watchers.keys()];
  }
}
