/**
 * The Pusher protocol server: turns transport callbacks into connections,
 * runs liveness, and delivers cluster broadcasts to local subscribers.
 * It owns no sockets and no timers: the composition root drives `sweep()`.
 */
import { randomInt } from 'node:crypto';
import type { AppConfig } from '../config/types.js';
import { ApplicationsUnavailable, type ApplicationProvider } from './apps.js';
import type { ChannelDelivery, Cluster } from './cluster.js';
import type { PreparedFrame, SocketHandler, TransportSocket, UpgradeRequest } from './socket.js';
import { AppRuntime } from './app.js';
import { Connection } from './connection.js';
import { departAll } from './depart.js';
import type { ProtocolObserver } from './observer.js';
import { isOriginAllowed } from './origins.js';
import { ConnectionRateLimiter, clientAddress } from './client-address.js';
import { NO_CHANNEL_EVENTS, type ChannelEvents } from './channel-events.js';
import { SubscriptionCounts } from './subscription-count.js';
import type { WatchlistEvent } from './watchlist.js';
import { channelKind } from './channels/names.js';
import { ERRORS, PING_FRAME, connectionEstablishedFrame, encodeFrame, errorFrame, type PusherError } from './wire.js';

export interface PusherServerOptions {
  /** Where apps are looked up. */
  readonly apps: ApplicationProvider;
  /** Apps present from the start (the configuration's), so that they show in metrics before their first connection. */
  readonly initialApps?: readonly AppConfig[];
  /** An app was loaded, or its settings changed (webhook targets, watchlist topics follow it). */
  readonly appLoaded?: (app: AppConfig) => void;
  readonly cluster: Cluster;
  readonly prepare: (text: string) => PreparedFrame;
  readonly observer: ProtocolObserver;
  readonly maxBufferedBytes: number;
  /** New connections per client address per second; null = unlimited. */
  readonly maxConnectionsPerIpPerSecond?: number | null;
  /** Proxies whose `X-Forwarded-For` names the client. */
  readonly trustedProxies?: readonly string[];
  /** Where channel lifecycle events go (webhooks). */
  readonly channelEvents?: ChannelEvents;
  readonly now?: () => number;
}

const IGNORE: SocketHandler = { message() {}, control() {}, disconnected() {} };

/**
 * A socket whose app is being looked up in the store: what it sends meanwhile
 * is dropped (clients wait for `pusher:connection_established`), and once the
 * app is known every callback goes to the connection.
 */
class PendingOpen implements SocketHandler {
  private handler: SocketHandler | undefined;
  private gone = false;

  constructor(server: PusherServer, socket: TransportSocket, request: UpgradeRequest, lookup: Promise<AppConfig | undefined>) {
    lookup.then(
      (config) => {
        if (!this.gone) this.handler = server.establish(socket, request, config);
      },
      (error: unknown) => {
        if (!this.gone) this.handler = server.refuse(socket, request, error instanceof ApplicationsUnavailable ? ERRORS.appsUnavailable : ERRORS.appNotFound);
      },
    );
  }

  message(data: string): void {
    this.handler?.message(data);
  }

  control(isPing: boolean): void {
    this.handler?.control(isPing);
  }

  disconnected(code: number): void {
    this.gone = true;
    this.handler?.disconnected(code);
  }
}

export class PusherServer {
  readonly appsByKey = new Map<string, AppRuntime>();
  readonly appsById = new Map<string, AppRuntime>();
  readonly cluster: Cluster;
  readonly observer: ProtocolObserver;
  readonly maxBufferedBytes: number;
  readonly prepare: (text: string) => PreparedFrame;
  readonly now: () => number;
  readonly channelEvents: ChannelEvents;
  readonly subscriptionCounts = new SubscriptionCounts();
  readonly apps: ApplicationProvider;
  private readonly appLoaded: (app: AppConfig) => void;
  private accepting = true;
  private readonly connectionRate: ConnectionRateLimiter | undefined;
  private readonly trustedProxies: readonly string[];

  constructor(options: PusherServerOptions) {
    const perIp = options.maxConnectionsPerIpPerSecond;
    this.connectionRate = perIp ? new ConnectionRateLimiter(perIp) : undefined;
    this.trustedProxies = options.trustedProxies ?? [];
    this.channelEvents = options.channelEvents ?? NO_CHANNEL_EVENTS;
    this.cluster = options.cluster;
    this.observer = options.observer;
    this.maxBufferedBytes = options.maxBufferedBytes;
    this.prepare = options.prepare;
    this.now = options.now ?? Date.now;
    this.apps = options.apps;
    this.appLoaded = options.appLoaded ?? (() => undefined);
    for (const config of options.initialApps ?? []) this.runtime(config);
    this.apps.onChange((id) => void this.reloadApp(id));
  }

  /**
   * The runtime of a looked-up app, made on first sight; a runtime whose
   * settings changed in the store takes the new ones (a rotated secret, new
   * limits) for everything that follows.
   */
  runtime(config: AppConfig): AppRuntime {
    let app = this.appsById.get(config.id);
    if (!app) {
      app = new AppRuntime(config, this);
      this.appsById.set(config.id, app);
    } else if (app.config !== config) {
      if (this.appsByKey.get(app.config.key) === app) this.appsByKey.delete(app.config.key);
      app.config = config;
    } else {
      return app;
    }
    this.appsByKey.set(config.key, app);
    this.appLoaded(config);
    return app;
  }

  /**
   * The app of an HTTP API request, looked up by id; undefined when unknown.
   * Throws ApplicationsUnavailable when the store cannot say.
   */
  async findApp(id: string): Promise<AppRuntime | undefined> {
    const config = await this.apps.findById(id);
    return config ? this.runtime(config) : undefined;
  }

  /** An app changed elsewhere (told over the cluster): look it up again at once. */
  appInvalidated(id: string): Promise<void> {
    this.apps.forget(id);
    return this.reloadApp(id);
  }

  /**
   * Applies an app's current settings to its runtime here; a disabled or
   * deleted app's connections are closed (4003 / 4001).
   */
  private async reloadApp(id: string): Promise<void> {
    const app = this.appsById.get(id);
    if (!app) return;
    let config: AppConfig | undefined;
    try {
      config = await this.apps.findById(id);
    } catch {
      return; // The store is down: the app stays as it was.
    }
    if (config) this.runtime(config);
    if (config?.enabled) return;
    const error = config ? ERRORS.appDisabled : ERRORS.appNotFound;
    for (const connection of app.connections.values()) connection.error(error, true);
    if (!config && this.appsById.get(id) === app && app.connections.size === 0) {
      this.appsById.delete(id);
      if (this.appsByKey.get(app.config.key) === app) this.appsByKey.delete(app.config.key);
    }
  }

  get connectionCount(): number {
    let count = 0;
    for (const app of this.appsById.values()) count += app.connections.size;
    return count;
  }

  /** Every connection on this server (each app keeps its own; no second index per connection). */
  private *connections(): Generator<Connection> {
    for (const app of this.appsById.values()) yield* app.connections.values();
  }

  /** A WebSocket opened on `/app/{key}`: refuse it with a close code, or establish it. */
  open(socket: TransportSocket, request: UpgradeRequest): SocketHandler {
    let lookup;
    try {
      lookup = this.apps.findByKey(request.appKey);
    } catch (error) {
      if (!(error instanceof ApplicationsUnavailable)) throw error;
      return this.refuse(socket, request, ERRORS.appsUnavailable);
    }
    return lookup instanceof Promise ? new PendingOpen(this, socket, request, lookup) : this.establish(socket, request, lookup);
  }

  /** Establishes the connection of a looked-up app, or refuses it. */
  establish(socket: TransportSocket, request: UpgradeRequest, config: AppConfig | undefined): SocketHandler {
    const app = config && this.runtime(config);
    const refusal = this.refusal(app, request);
    if (refusal || !app) return this.refuse(socket, request, refusal ?? ERRORS.appNotFound);
    const connection = new Connection(newSocketId(app), socket, app, this.now());
    app.connections.set(connection.socketId, connection);
    this.cluster.connectionsChanged(app.id, app.connections.size);
    this.observer.connectionOpened(connection);
    connection.send(connectionEstablishedFrame(connection.socketId, app.config.activityTimeout));
    // The connection is its own socket handler: no closures per connection.
    return connection;
  }

  refuse(socket: TransportSocket, request: UpgradeRequest, error: PusherError): SocketHandler {
    socket.send(errorFrame(error));
    socket.close(error.code, error.message);
    this.observer.connectionRefused(request.appKey, error.message);
    return IGNORE;
  }

  private refusal(app: AppRuntime | undefined, request: UpgradeRequest): PusherError | undefined {
    if (this.connectionRate && !this.connectionRate.allow(clientAddress(request, this.trustedProxies), this.now())) {
      return ERRORS.tooManyConnections;
    }
    if (!app) return ERRORS.appNotFound;
    if (!this.accepting) return ERRORS.shuttingDown;
    if (!app.config.enabled) return ERRORS.appDisabled;
    if (!isOriginAllowed(app.config.allowedOrigins, request.origin)) return ERRORS.originNotAllowed;
    const limit = app.config.maxConnections;
    if (limit !== null && app.connections.size >= limit) return ERRORS.overQuota;
    return undefined;
  }

  /** The transport reported the socket closed: forget the connection and leave its channels. */
  connectionClosed(connection: Connection, code: number): void {
    connection.closed = true;
    connection.app.connections.delete(connection.socketId);
    this.cluster.connectionsChanged(connection.app.id, connection.app.connections.size);
    // Queued behind any in-flight subscribe so that it is undone too.
    connection.run(() => departAll(connection));
    this.observer.connectionClosed(connection, code);
  }

  /** Local delivery of a cluster broadcast: prepare once, write to every subscriber here. */
  deliver(delivery: ChannelDelivery): void {
    const app = this.appsById.get(delivery.appId);
    const channel = app?.channels.get(delivery.channel);
    if (!app || !channel) return;
    const except = delivery.exceptSocketId === undefined ? undefined : app.connections.get(delivery.exceptSocketId);
    const recipients = channel.broadcast(this.prepare(delivery.frame), except);
    this.observer.broadcast(delivery.appId, delivery.channel, delivery.frame, recipients);
  }

  /** Publishes a server event (HTTP API) to one channel, caching it on cache channels. */
  publishEvent(app: AppRuntime, channel: string, event: string, data: string, exceptSocketId?: string): void {
    const frame = encodeFrame(event, data, channel);
    if (channelKind(channel).isCache) {
      this.cluster.cacheStore(app.id, channel, frame, app.config.cacheTtl);
    }
    this.cluster.publish({ appId: app.id, channel, frame, exceptSocketId });
    this.observer.published(app.id, channel, frame);
  }

  /** The cluster saw users come online or go offline: tell this server's watchers of them. */
  watchlistChanged(appId: string, name: WatchlistEvent, userIds: readonly string[]): void {
    this.appsById.get(appId)?.watchers.notify(name, userIds);
  }

  /** Closes this server's connections of a user (signed in, or a presence member) with 4009. */
  terminateLocalUser(appId: string, userId: string): number {
    const app = this.appsById.get(appId);
    if (!app) return 0;
    let closed = 0;
    for (const connection of app.connections.values()) {
      if (connection.user?.id === userId || isPresenceMember(connection, userId)) {
        connection.error(ERRORS.terminated, true);
        closed++;
      }
    }
    return closed;
  }

  /**
   * Liveness: ping connections silent for `ping_interval`, close those still
   * silent `pong_timeout` after the ping with 4201.
   */
  sweep(now = this.now()): void {
    void this.subscriptionCounts.flush();
    for (const connection of this.connections()) {
      if (connection.closed) continue;
      const config = connection.app.config;
      const authorizeWithin = config.authorizedConnectionsTimeout;
      if (authorizeWithin !== null && !connection.authorized && now - connection.openedAt >= authorizeWithin * 1000) {
        connection.error(ERRORS.notAuthorizedInTime, true);
        continue;
      }
      if (connection.pingedAt === 0) {
        if (now - connection.lastSeen >= config.pingInterval * 1000) {
          connection.pingedAt = now;
          if (connection.usesControlFrames) connection.socket.ping();
          else connection.send(PING_FRAME);
          this.observer.pinged(connection);
        }
      } else if (now - connection.pingedAt >= config.pongTimeout * 1000) {
        connection.error(ERRORS.pongTimeout, true);
      }
    }
  }

  /** Graceful shutdown: refuse new connections and ask every client to reconnect (4200). */
  closeAll(error: PusherError = ERRORS.shuttingDown): void {
    this.accepting = false;
    for (const connection of this.connections()) connection.error(error, true);
  }
}

/**
 * Pusher's socket id format. Unique within the app, which is all the protocol
 * needs (except-socket-id, terminations, presence): one lookup, whatever the
 * number of apps on the server.
 */
function newSocketId(app: AppRuntime): string {
  let id: string;
  do id = `${randomInt(1, 1_000_000_001)}.${randomInt(1, 1_000_000_001)}`;
  while (app.connections.has(id));
  return id;
}

function isPresenceMember(connection: Connection, userId: string): boolean {
  for (const channel of connection.channels.values()) {
    if (channel.subscribers.get(connection)?.userId === userId) return true;
  }
  return false;
}
