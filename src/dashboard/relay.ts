/**
 * The debug console across a cluster. Every server listens to one topic,
 * `dashboard:watch`, on which a server with open consoles says which apps
 * they watch (when the first opens, then every 10 seconds, and when the last
 * closes). A server that heard it sends its events of those apps to
 * `dashboard:events:<app>`, which only the watching servers subscribe to,
 * until it stops hearing (35 seconds). With no console open anywhere nothing
 * is published: the added Redis traffic is zero.
 *
 * The same topic carries the charts' samples: a server that hears a new
 * watcher sends it its last hour of the app's samples, then each new one, so
 * the watching server's charts add up the whole cluster.
 */
import type { DebugEvent, DebugFeed, FeedRelay } from './feed.js';
import { Ring } from './ring.js';
import type { Sample } from './history.js';

/** Redis pub/sub as the relay uses it (redis-bus.ts). */
export interface RelayBus {
  readonly nodeId: string;
  /** Subscribes to a topic (below the cluster's namespace); returns the unsubscribe. */
  listen(topic: string, handler: (message: string) => void): () => void;
  /** Publishes to a topic; dropped while Redis is unavailable. */
  announce(topic: string, message: string): void;
}

const WATCH_TOPIC = 'dashboard:watch';
const ANNOUNCE_MS = 10_000;
const WANTED_MS = 35_000;

interface WatchMessage {
  /** The server with the consoles. */
  n: string;
  /** The app they watch. */
  a: string;
  /** 1: watching, 0: stopped. */
  w: 0 | 1;
}

export class ClusterRelay implements FeedRelay {
  /** Apps watched elsewhere: app -> server -> until when (ms). */
  private readonly wanted = new Map<string, Map<string, number>>();
  /** This server's event subscriptions, per watched app. */
  private readonly listening = new Map<string, () => void>();
  /** The other servers' samples of the apps watched here: app -> server -> samples. */
  private readonly remote = new Map<string, Map<string, Ring<Sample>>>();
  private stopWatchTopic: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: RelayBus,
    private readonly feed: DebugFeed,
    /** This server's samples of an app (the last hour). */
    private readonly samplesOf: (appId: string) => Sample[] = () => [],
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.stopWatchTopic = this.bus.listen(WATCH_TOPIC, (text) => this.heard(text));
    this.timer = setInterval(() => this.tick(), ANNOUNCE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const appId of [...this.listening.keys()]) this.watching(appId, false);
    this.stopWatchTopic?.();
  }

  wants(appId: string): boolean {
    const servers = this.wanted.get(appId);
    if (!servers) return false;
    const now = this.now();
    for (const until of servers.values()) if (until > now) return true;
    return false;
  }

  wantsAny(): boolean {
    return this.wanted.size > 0;
  }

  send(event: DebugEvent): void {
    this.bus.announce(`dashboard:events:${event.app}`, JSON.stringify({ n: this.bus.nodeId, e: event }));
  }

  /** A new sample of this server: to the servers watching the app. */
  sampled(appId: string, sample: Sample): void {
    if (this.wants(appId)) this.sendSamples(appId, [sample]);
  }

  private sendSamples(appId: string, samples: Sample[]): void {
    if (samples.length > 0) this.bus.announce(`dashboard:events:${appId}`, JSON.stringify({ n: this.bus.nodeId, a: appId, s: samples }));
  }

  /** The other servers' samples of a watched app, one list per server. */
  remoteSamples(appId: string): Sample[][] {
    return [...(this.remote.get(appId)?.values() ?? [])].map((ring) => ring.toArray());
  }

  watching(appId: string, on: boolean): void {
    if (on && !this.listening.has(appId)) {
      this.listening.set(appId, this.bus.listen(`dashboard:events:${appId}`, (text) => this.relayed(text)));
    } else if (!on) {
      this.listening.get(appId)?.();
      this.listening.delete(appId);
      this.remote.delete(appId);
    }
    this.announce(appId, on);
  }

  private announce(appId: string, on: boolean): void {
    const message: WatchMessage = { n: this.bus.nodeId, a: appId, w: on ? 1 : 0 };
    this.bus.announce(WATCH_TOPIC, JSON.stringify(message));
  }

  private heard(text: string): void {
    let message: WatchMessage;
    try {
      message = JSON.parse(text) as WatchMessage;
    } catch {
      return;
    }
    if (typeof message.n !== 'string' || typeof message.a !== 'string' || message.n === this.bus.nodeId) return;
    let servers = this.wanted.get(message.a);
    if (message.w === 1) {
      if (!servers) this.wanted.set(message.a, (servers = new Map()));
      // A new watcher gets this server's last hour for its charts.
      if (!servers.has(message.n)) this.sendSamples(message.a, this.samplesOf(message.a));
      servers.set(message.n, this.now() + WANTED_MS);
    } else if (servers) {
      servers.delete(message.n);
      if (servers.size === 0) this.wanted.delete(message.a);
    }
    this.feed.refresh();
  }

  private relayed(text: string): void {
    let message: { n?: unknown; e?: DebugEvent; a?: unknown; s?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.n !== 'string' || message.n === this.bus.nodeId) return;
    if (message.e) this.feed.deliver({ ...message.e, node: message.n });
    else if (typeof message.a === 'string' && Array.isArray(message.s)) this.storeSamples(message.a, message.n, message.s);
  }

  private storeSamples(appId: string, node: string, samples: unknown[]): void {
    if (!this.listening.has(appId)) return;
    let servers = this.remote.get(appId);
    if (!servers) this.remote.set(appId, (servers = new Map()));
    let ring = servers.get(node);
    if (!ring) servers.set(node, (ring = new Ring(360)));
    let last = ring.toArray().at(-1)?.[0] ?? -Infinity;
    for (const sample of samples) {
      if (!Array.isArray(sample) || sample.length !== 4 || !sample.every((value) => typeof value === 'number' && Number.isFinite(value))) continue;
      // In order and once: the full hour may cross a single new sample.
      if (sample[0] <= last) continue;
      ring.push(sample as Sample);
      last = sample[0];
    }
  }

  /** Repeats this server's announcements and forgets the watchers that went silent. */
  private tick(): void {
    for (const appId of this.listening.keys()) this.announce(appId, true);
    const now = this.now();
    for (const [appId, servers] of this.wanted) {
      for (const [node, until] of servers) if (until <= now) servers.delete(node);
      if (servers.size === 0) this.wanted.delete(appId);
    }
    this.feed.refresh();
  }
}
