/**
 * The built-in dashboard (docs/dashboard.md), put together: the history
 * sampler, recent errors, the debug feed and its streams, the cluster relay
 * when scaling is on, and the routes the HTTP router hands its path to.
 */
import type { DashboardConfig, ScalingConfig } from '../config/types.js';
import type { ProtocolObserver } from '../protocol/observer.js';
import type { PusherServer } from '../protocol/server.js';
import type { ApiRequest, ApiResponse } from '../http/types.js';
import type { WebhookCounters } from '../webhooks/create.js';
import { loadAssets } from './assets.js';
import { RecentErrors } from './errors.js';
import { DebugFeed } from './feed.js';
import { History, mergeSamples } from './history.js';
import { dashboardObserver } from './observer.js';
import { ClusterRelay } from './relay.js';
import { RedisBus } from './redis-bus.js';
import { dashboardRoutes } from './routes.js';
import { DebugStreams } from './stream.js';
import { webhookCounters } from './webhooks.js';

export interface DashboardOptions {
  readonly config: DashboardConfig;
  /** The server's path prefix (`path`), in front of the dashboard's. */
  readonly prefix: string;
  readonly secureCookie: boolean;
  /** `trusted_proxies`: whose `X-Forwarded-For` names the client for the failed-login limit. */
  readonly trustedProxies: readonly string[];
  /** With scaling on, the debug console shows the whole cluster's events (through Redis). */
  readonly scaling?: ScalingConfig;
}

export class Dashboard {
  readonly path: string;
  private readonly errors = new RecentErrors();
  private readonly feed = new DebugFeed();
  private readonly streams = new DebugStreams(this.feed);
  private readonly relay: ClusterRelay | undefined;
  private readonly bus: RedisBus | undefined;
  private server: PusherServer | undefined;
  private readonly history = new History(
    (appId) => this.server?.appsById.get(appId)?.connections.size ?? 0,
    () => this.server?.appsById.keys() ?? [],
  );
  private handler: ((request: ApiRequest, path: string) => Promise<ApiResponse>) | undefined;

  constructor(private readonly options: DashboardOptions) {
    this.path = options.config.path;
    if (options.scaling) {
      this.bus = new RedisBus(options.scaling);
      const relay = new ClusterRelay(this.bus, this.feed, (appId) => this.history.samples(appId));
      this.history.onSample = (appId, sample) => relay.sampled(appId, sample);
      this.feed.useRelay(relay);
      this.relay = relay;
    }
  }

  observer(): Partial<ProtocolObserver> {
    return dashboardObserver({
      history: this.history,
      errors: this.errors,
      feed: this.feed,
      appIdOfKey: (key) => this.server?.appsByKey.get(key)?.id,
    });
  }

  /** Webhook reports for the console and the errors, passed on to `also` (metrics). */
  webhookCounters(also?: WebhookCounters): WebhookCounters {
    return webhookCounters(this.feed, this.errors, also);
  }

  /** Starts sampling and listening to the cluster; the routes answer from now on. */
  async start(server: PusherServer): Promise<void> {
    this.server = server;
    const base = `${this.options.prefix}${this.path}`;
    const { page, files } = loadAssets(base);
    this.handler = dashboardRoutes({
      server,
      base,
      token: this.options.config.token,
      secureCookie: this.options.secureCookie,
      trustedProxies: this.options.trustedProxies,
      clustered: this.bus !== undefined,
      page,
      files,
      samples: (appId) => mergeSamples([this.history.samples(appId), ...(this.relay?.remoteSamples(appId) ?? [])]),
      errors: this.errors,
      streams: this.streams,
    });
    this.history.start();
    await this.bus?.start();
    this.relay?.start();
  }

  /** `path` is below the dashboard's own (`/`, `/api/session`, ...). */
  handle(request: ApiRequest, path: string): Promise<ApiResponse> {
    if (!this.handler) return Promise.resolve({ status: 503, body: '{"error":"The dashboard is starting."}' });
    return this.handler(request, path);
  }

  /** Ends the open debug streams and stops the timers. */
  close(): void {
    this.streams.closeAll();
    this.history.stop();
    this.relay?.stop();
    this.bus?.close();
  }
}
