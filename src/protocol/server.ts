/**
 * The Pusher protocol server: turns transport callbacks into connections,
 * runs liveness, and delivers cluster broadcasts to local subscribers.
 * It owns no sockets and no timers: the composition root drives `sweep()`.
 */
import { randomInt } from 'node:crypto';
import type { AppConfig } from '../config/types.js';
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
  readonly apps: readonly AppConfig[];
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
    for (const config of options.apps) {
      const app = new AppRuntime(config, this);
      this.appsByKey.set(config.key, app);
      this.appsById.set(config.id, app);
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
    const app = this.appsByKey.get(request.appKey);
    const refusal = this.refusal(app, request);
    if (refusal || !app) {
      const error = refusal ?? ERRORS.appNotFound;
      socket.send(errorFrame(error));
      socket.close(error.code, error.message);
      this.observer.connectionRefused(request.appKey, error.message);
      return IGNORE;
    }
    const connection = new Connection(this.newSocketId(), socket, app, this.now());
    app.connections.set(connection.socketId, connection);
    this.cluster.connectionsChanged(app.id, app.connections.size);
    this.observer.connectionOpened(connection);
    connection.send(connectionEstablishedFrame(connection.socketId, app.config.activityTimeout));
    // The connection is its own socket handler: no closures per connection.
    return connection;
  }

  private refusal(app: AppRuntime | undefined, request: UpgradeRequest): PusherError | undefined {
    if (this.connectionRate && !this.connectionRate.allow(clientAddress(request, this.trustedProxies), this.now())) {
      return ERRORS.tooManyConnections;
    }
    if (!app) return ERRORS.appNotFound;
    if (!this.accepting) return ERRORS.shuttingDown;
    if (!isOriginAllowed(app.config.allowedOrigins, request.origin)) return ERRORS.originNotAllowed;
    const limit = app.config.maxConnections;
    if (limit !== null && app.connections.size >= limit) return ERRORS.overQuota;
    return undefined;
  }

  private newSocketId(): string {
    let id: string;
    do id = `${randomInt(1, 1_000_000_001)}.${randomInt(1, 1_000_000_001)}`;
    while (this.socketIdTaken(id));
    return id;
  }

  /** Socket ids are unique per server, across apps. */
  private socketIdTaken(id: string): boolean {
    for (const app of this.appsById.values()) if (app.connections.has(id)) return true;
    return false;
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

function isPresenceMember(connection: Connection, userId: string): boolean {
  for (const channel of connection.channels.values()) {
    if (channel.subscribers.get(connection)?.userId === userId) return true;
  }
  return false;
}
