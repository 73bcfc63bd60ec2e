/** The validated, typed configuration every other module reads. Times are in seconds. */
import type { CacheStoreConfig } from './laravel/cache-store.js';
import type { SqlConnectionConfig } from './laravel/database-connection.js';
import type { PulseRecording } from './pulse.js';
import type { WebhookTarget } from './webhooks.js';

export type ClientEventsFrom = 'members' | 'all' | 'none';

export type TransportChoice = 'auto' | 'uws' | 'ws';

export interface RateLimiting {
  readonly enabled: boolean;
  readonly maxAttempts: number;
  readonly decaySeconds: number;
  readonly terminateOnLimit: boolean;
}

export interface AppConfig {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
  /** A disabled app refuses connections (4003) and API requests (403); its open connections are closed. */
  readonly enabled: boolean;
  readonly allowedOrigins: readonly string[];
  /** Silence after which the server pings a connection. */
  readonly pingInterval: number;
  /** Advertised to clients in `connection_established`. */
  readonly activityTimeout: number;
  /** How long a pinged connection may stay silent before it is closed with 4201. */
  readonly pongTimeout: number;
  readonly maxMessageSize: number;
  readonly maxConnections: number | null;
  readonly acceptClientEventsFrom: ClientEventsFrom;
  readonly rateLimiting: RateLimiting;
  /** How long a cache channel keeps its last event. */
  readonly cacheTtl: number;
  /** Channels one connection may be subscribed to at once. */
  readonly maxChannelsPerConnection: number;
  /** Distinct users a presence channel may hold, cluster-wide (Pusher: 100). */
  readonly maxPresenceMembersPerChannel: number;
  /** Bytes of a presence member's `user_info` as JSON (Pusher: 1 KB). */
  readonly maxPresenceUserInfoSize: number;
  /** Inbound WebSocket messages of any kind one connection may send per second. */
  readonly maxMessagesPerSecond: number;
  /** HTTP API event points (one per channel of each event) per second on this server; null = unlimited. */
  readonly maxBackendEventsPerSecond: number | null;
  /** HTTP API GET requests per second on this server; null = unlimited. */
  readonly maxReadRequestsPerSecond: number | null;
  /** Longest channel name, for subscribe and the HTTP API (Pusher: 164). */
  readonly maxChannelNameLength: number;
  /** Longest event name, HTTP API and client events (Pusher: 200). */
  readonly maxEventNameLength: number;
  /** Bytes of an event's `data`, HTTP API and client events; null = only the request/message size bounds it. */
  readonly maxEventPayloadSize: number | null;
  /** Channels one HTTP API event may go to (Pusher: 100). */
  readonly maxChannelsPerEvent: number;
  /** Events in one batch request (Pusher: 10). */
  readonly maxBatchSize: number;
  /** Where this app's webhooks go (none: no webhooks). */
  readonly webhooks: readonly WebhookTarget[];
  /** null: one event per request (Pusher); otherwise events gathered per window. */
  readonly webhookBatching: { readonly windowMs: number; readonly maxEvents: number } | null;
  /** Send `pusher_internal:subscription_count` to subscribers of non-presence channels (Pusher's opt-in). */
  readonly subscriptionCountEvents: boolean;
  /** Seconds a connection may stay without signing in or joining a private/presence channel; null = forever. */
  readonly authorizedConnectionsTimeout: number | null;
  /** Tell signed-in users when the users of their `user_data.watchlist` come online and go offline. */
  readonly watchlistEvents: boolean;
}

export interface TlsConfig {
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly passphrase?: string;
  readonly rejectUnauthorized?: boolean;
}

export interface RedisServerConfig {
  readonly url: string | null;
  readonly host: string;
  readonly port: number;
  readonly username: string | null;
  readonly password: string | null;
  readonly database: number;
  readonly timeout: number;
}

export interface ScalingConfig {
  readonly enabled: boolean;
  /** Namespace of everything this installation puts in Redis (keys and pub/sub topics). */
  readonly channel: string;
  /** Seconds without a heartbeat after which the other servers remove a server's connections. */
  readonly nodeTimeout: number;
  readonly server: RedisServerConfig;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Route prefix, normalised to '' or '/something' (no trailing slash). */
  readonly path: string;
  readonly hostname: string | null;
  readonly maxRequestSize: number;
  readonly tls: TlsConfig | null;
  readonly scaling: ScalingConfig;
  /** Unsent bytes a connection may accumulate before it is closed with 4100. */
  readonly maxBufferedBytes: number;
  /** Allowed clock difference for HTTP API `auth_timestamp`; 0 disables the check. */
  readonly authTimestampTolerance: number;
  /** Longest a graceful shutdown may take before the process exits anyway. */
  readonly shutdownTimeout: number;
  /** An HTTP request whose headers are not complete after this long is closed (slowloris). */
  readonly httpHeadersTimeout: number;
  /** An HTTP request not fully received (headers and body) after this long is closed with 408. */
  readonly httpRequestTimeout: number;
  /** WebSocket library: `auto` = uWebSockets.js when it loads natively, else ws. */
  readonly transport: TransportChoice;
  /** New WebSocket connections one client address may open per second; null = unlimited. */
  readonly maxConnectionsPerIpPerSecond: number | null;
  /** Proxy addresses whose `X-Forwarded-For` names the client (`*` = any). */
  readonly trustedProxies: readonly string[];
  /** Seconds a webhook request may take before it counts as failed (and is retried). */
  readonly webhookTimeout: number;
  /** Webhook events that may wait per target before new ones are dropped. */
  readonly webhookQueueSize: number;
  /** Prometheus metrics at `GET /metrics`; null = off. */
  readonly metrics: MetricsConfig | null;
  /** Reverb's message counts written for Laravel Pulse; null = off. */
  readonly pulse: PulseConfig | null;
  /** The built-in dashboard and debug console (docs/dashboard.md); null = off. */
  readonly dashboard: DashboardConfig | null;
}

export interface DashboardConfig {
  /** Where the page is served, below the server path (`/dashboard`). */
  readonly path: string;
  /** Signs in to every app; null = only app id + secret logins. */
  readonly token: string | null;
}

/**
 * Laravel Pulse's Reverb messages: seconds between two writes (Reverb's
 * `pulse_ingest_interval`), share of messages counted (the `sample_rate` of
 * Reverb's recorder) and where they go (Pulse's tables, or its Redis ingest
 * stream), as config/pulse.php and servers.reverb.pulse say (./pulse.ts).
 */
export type PulseConfig = PulseRecording;

export interface MetricsConfig {
  /** Where a separate metrics listener binds; null host and port = on the main listener. */
  readonly host: string | null;
  readonly port: number | null;
  /** Prepended to every metric name (`soketi_` makes soketi's dashboards work). */
  readonly prefix: string;
  /** When set, scrapes must send `Authorization: Bearer <token>`. */
  readonly token: string | null;
}

/** Where the apps come from (Reverb's `apps.provider`). */
export type AppProviderConfig =
  | { readonly kind: 'config' }
  | {
      readonly kind: 'database';
      /** The Laravel database connection holding the apps table. */
      readonly database: SqlConnectionConfig;
      readonly table: string;
      /** Seconds a looked-up app (or an unknown key) is answered from memory. */
      readonly cacheTtl: number;
    };

export interface Config {
  readonly server: ServerConfig;
  /** The apps of the configuration file (none with the database provider). */
  readonly apps: readonly AppConfig[];
  readonly appProvider: AppProviderConfig;
  /** True when no app was configured and the built-in development app is served. */
  readonly usingDevelopmentApp: boolean;
  readonly debug: boolean;
  /** The files the configuration was read from besides the environment, lowest precedence first. */
  readonly sources: readonly string[];
  /** Problems worth telling but not fatal outside production (unknown keys), one line each. */
  readonly warnings: readonly string[];
  /** Where `php artisan reverb:restart` is looked for; null outside a Laravel project. */
  readonly restartSignal: RestartSignal | null;
}

export interface RestartSignal {
  /** The project's default Laravel cache store. */
  readonly store: CacheStoreConfig;
  /** Seconds between two looks at the restart key. */
  readonly interval: number;
}
