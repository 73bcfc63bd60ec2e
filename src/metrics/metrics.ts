/**
 * Prometheus metrics (prom-client) under soketi's and sockudo's names, so
 * their Grafana dashboards work after changing the prefix, plus what an
 * operator needs beyond them. Labels are bounded: app, port, channel type,
 * close code, limit, endpoint, status — never a channel, socket or user.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Connection } from '../protocol/connection.js';
import type { LimitName, ProtocolObserver } from '../protocol/observer.js';
import type { PusherServer } from '../protocol/server.js';
import { channelKind } from '../protocol/channels/names.js';
import type { ApiCall } from '../http/router.js';
import type { WebhookCounters } from '../webhooks/create.js';
import type { RedisCommandObserver } from '../cluster/redis-timing.js';

/** A channel's type for labels: the prefix family it belongs to. */
export function channelType(name: string): string {
  const kind = channelKind(name);
  if (kind.isPresence) return 'presence';
  if (kind.isEncrypted) return 'private-encrypted';
  if (kind.isServerToUser) return 'server-to-user';
  if (kind.isPrivate) return 'private';
  return kind.isCache ? 'cache' : 'public';
}

/** Per-app label values are resolved once per app, not per event. */
interface AppCounters {
  readonly newConnections: Counter.Internal;
  readonly disconnections: Counter.Internal;
  readonly receivedBytes: Counter.Internal;
  readonly transmittedBytes: Counter.Internal;
  readonly messagesReceived: Counter.Internal;
  readonly messagesSent: Counter.Internal;
  readonly clientEvents: Counter.Internal;
  readonly slowConsumers: Counter.Internal;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly port: string;
  private readonly perApp = new Map<string, AppCounters>();
  private readonly counters;
  private readonly latency: Histogram<'port' | 'endpoint'>;
  private readonly redisLatency: Histogram<'port' | 'command'>;
  private readonly redisFailures: Counter<'port' | 'command' | 'reason'>;
  private server: PusherServer | undefined;

  constructor(options: { prefix: string; port: number }) {
    const { prefix } = options;
    this.port = String(options.port);
    const registers = [this.registry];
    const appLabels = ['app_id', 'port'] as const;
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter({ name: prefix + name, help, labelNames, registers });
    this.counters = {
      newConnections: counter('new_connections_total', 'WebSocket connections opened.', appLabels),
      disconnections: counter('new_disconnections_total', 'WebSocket connections closed.', appLabels),
      receivedBytes: counter('socket_received_bytes', 'Bytes of WebSocket messages received.', appLabels),
      transmittedBytes: counter('socket_transmitted_bytes', 'Bytes of WebSocket messages sent.', appLabels),
      messagesReceived: counter('ws_messages_received_total', 'WebSocket messages received.', appLabels),
      messagesSent: counter('ws_messages_sent_total', 'WebSocket messages sent.', appLabels),
      httpReceived: counter('http_received_bytes', 'Bytes of HTTP API request bodies received.', appLabels),
      httpTransmitted: counter('http_transmitted_bytes', 'Bytes of HTTP API response bodies sent.', appLabels),
      httpCalls: counter('http_calls_received_total', 'HTTP API calls received.', appLabels),
      closes: counter('connection_closes_total', 'WebSocket connections closed, by close code.', [...appLabels, 'code']),
      clientEvents: counter('client_events_total', 'Client events relayed.', appLabels),
      limited: counter('limit_refusals_total', 'Messages, subscriptions or API requests refused by a limit (docs/security.md).', [...appLabels, 'limit']),
      slowConsumers: counter('slow_consumer_closes_total', 'Connections closed with 4100 for not reading.', appLabels),
      refused: counter('connections_refused_total', 'WebSocket handshakes refused (unknown app, origin, quota, rate).', ['port']),
      apiRequests: counter('http_requests_total', 'HTTP API requests by endpoint and status.', ['port', 'endpoint', 'status']),
      webhookRequests: counter('webhook_requests_total', 'Webhook requests sent (retries included), by the status they got.', [...appLabels, 'status']),
      webhookFailures: counter('webhook_failed_events_total', 'Webhook events given up (final status, or 5 minutes of retries).', appLabels),
      webhookDropped: counter('webhook_dropped_events_total', 'Webhook events dropped because the queue was full.', appLabels),
      appStoreQueries: counter('app_store_queries_total', 'Queries sent to the apps table (database app provider; cache misses and refreshes).', ['port']),
    };
    this.latency = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP API request latency by endpoint.',
      labelNames: ['port', 'endpoint'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.redisLatency = new Histogram({
      name: `${prefix}redis_command_duration_seconds`,
      help: 'Round-trip time of Redis commands (scaling on), by command or script name.',
      labelNames: ['port', 'command'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.redisFailures = counter(
      'redis_command_failures_total',
      'Redis commands without an answer (timeout, connection down) or answered with an error (reply).',
      ['port', 'command', 'reason'],
    );
    const metrics = this;
    new Gauge({
      name: `${prefix}connected`,
      help: 'Open WebSocket connections.',
      labelNames: appLabels,
      registers,
      collect() {
        for (const app of metrics.server?.appsById.values() ?? []) this.set({ app_id: app.id, port: metrics.port }, app.connections.size);
      },
    });
    const channelGauges = [
      ['channel_subscriptions', 'Subscriptions on this server by channel type.', 'subscriptions'],
      ['occupied_channels', 'Channels with subscribers on this server by channel type.', 'channels'],
    ] as const;
    for (const [name, help, field] of channelGauges) {
      new Gauge({
        name: prefix + name,
        help,
        labelNames: [...appLabels, 'channel_type'],
        registers,
        collect() {
          this.reset();
          for (const totals of metrics.channelTotals()) this.set(totals.labels, totals[field]);
        },
      });
    }
    new Gauge({
      name: `${prefix}webhook_queue_length`,
      help: 'Webhook events waiting or in flight.',
      labelNames: appLabels,
      registers,
      collect() {
        for (const app of metrics.server?.appsById.values() ?? []) {
          if (metrics.webhooks && app.config.webhooks.length > 0) this.set({ app_id: app.id, port: metrics.port }, metrics.webhooks.pending(app.id));
        }
      },
    });
    new Gauge({
      name: `${prefix}redis_connected`,
      help: 'Whether Redis answers (scaling on): 1 yes, 0 down or stalled.',
      labelNames: ['port'],
      registers,
      collect() {
        if (metrics.redisUp) this.set({ port: metrics.port }, metrics.redisUp() ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix });
  }

  private webhooks: { pending(appId: string): number } | undefined;
  private redisUp: (() => boolean) | undefined;

  /** The webhook queues whose length is exported. */
  watchWebhooks(webhooks: { pending(appId: string): number }): void {
    this.webhooks = webhooks;
  }

  /** The Redis link whose state is exported. */
  watchRedis(isUp: () => boolean): void {
    this.redisUp = isUp;
  }

  /** What webhook delivery reports, counted per app. */
  webhookCounters(): WebhookCounters {
    const labels = (appId: string) => ({ app_id: appId, port: this.port });
    return {
      attempted: (appId, status) => this.counters.webhookRequests.inc({ ...labels(appId), status: status === undefined ? 'no_response' : String(status) }),
      failed: (appId, events) => this.counters.webhookFailures.inc(labels(appId), events),
      dropped: (appId) => this.counters.webhookDropped.inc(labels(appId)),
    };
  }

  /** Counts one query of the database app provider. */
  appStoreQueried(): () => void {
    const counter = this.counters.appStoreQueries.labels({ port: this.port });
    return () => counter.inc();
  }

  /** What the Redis cluster reports of its commands. */
  redisCommands(): RedisCommandObserver {
    // Label values resolved once per command name, not per command (publish is a hot path).
    const timers = new Map<string, Histogram.Internal<'port' | 'command'>>();
    return {
      answered: (command, seconds) => {
        let timer = timers.get(command);
        if (!timer) timers.set(command, (timer = this.redisLatency.labels({ port: this.port, command })));
        timer.observe(seconds);
      },
      failed: (command, reason) => this.redisFailures.inc({ port: this.port, command, reason }),
    };
  }

  attach(server: PusherServer): void {
    this.server = server;
  }

  /** Subscriptions and occupied channels per app and channel type, counted at scrape time. */
  private channelTotals(): { labels: { app_id: string; port: string; channel_type: string }; subscriptions: number; channels: number }[] {
    const totals = new Map<string, { labels: { app_id: string; port: string; channel_type: string }; subscriptions: number; channels: number }>();
    for (const app of this.server?.appsById.values() ?? []) {
      for (const channel of app.channels.values()) {
        const type = channelType(channel.name);
        const key = `${app.id}\n${type}`;
        let entry = totals.get(key);
        if (!entry) totals.set(key, (entry = { labels: { app_id: app.id, port: this.port, channel_type: type }, subscriptions: 0, channels: 0 }));
        entry.subscriptions += channel.subscribers.size;
        entry.channels++;
      }
    }
    return [...totals.values()];
  }

  private app(appId: string): AppCounters {
    let counters = this.perApp.get(appId);
    if (!counters) {
      const labels = { app_id: appId, port: this.port };
      const c = this.counters;
      counters = {
        newConnections: c.newConnections.labels(labels),
        disconnections: c.disconnections.labels(labels),
        receivedBytes: c.receivedBytes.labels(labels),
        transmittedBytes: c.transmittedBytes.labels(labels),
        messagesReceived: c.messagesReceived.labels(labels),
        messagesSent: c.messagesSent.labels(labels),
        clientEvents: c.clientEvents.labels(labels),
        slowConsumers: c.slowConsumers.labels(labels),
      };
      this.perApp.set(appId, counters);
    }
    return counters;
  }

  /** What the protocol reports, counted. */
  observer(): Partial<ProtocolObserver> {
    const sent = (connection: Connection, text: string) => {
      const app = this.app(connection.app.id);
      app.messagesSent.inc();
      app.transmittedBytes.inc(Buffer.byteLength(text));
    };
    return {
      connectionOpened: (connection) => this.app(connection.app.id).newConnections.inc(),
      connectionClosed: (connection, code) => {
        this.app(connection.app.id).disconnections.inc();
        this.counters.closes.inc({ app_id: connection.app.id, port: this.port, code: String(code) });
      },
      connectionRefused: () => this.counters.refused.inc({ port: this.port }),
      messageReceived: (connection, text) => {
        const app = this.app(connection.app.id);
        app.messagesReceived.inc();
        app.receivedBytes.inc(Buffer.byteLength(text));
      },
      frameSent: sent,
      broadcast: (appId, _channel, frame, recipients) => {
        if (recipients === 0) return;
        const app = this.app(appId);
        app.messagesSent.inc(recipients);
        app.transmittedBytes.inc(Buffer.byteLength(frame) * recipients);
      },
      slowConsumer: (connection) => this.app(connection.app.id).slowConsumers.inc(),
      limited: (connection: Connection, limit: LimitName) =>
        this.counters.limited.inc({ app_id: connection.app.id, port: this.port, limit }),
      clientEvent: (connection) => this.app(connection.app.id).clientEvents.inc(),
    };
  }

  /** One HTTP API call, as the router reports it. */
  apiCall(call: ApiCall): void {
    const c = this.counters;
    if (call.appId !== undefined) {
      const labels = { app_id: call.appId, port: this.port };
      c.httpCalls.inc(labels);
      c.httpReceived.inc(labels, call.receivedBytes);
      c.httpTransmitted.inc(labels, call.sentBytes);
      if (call.limit !== undefined) c.limited.inc({ ...labels, limit: call.limit });
    }
    c.apiRequests.inc({ port: this.port, endpoint: call.endpoint, status: String(call.status) });
    this.latency.observe({ port: this.port, endpoint: call.endpoint }, call.seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
