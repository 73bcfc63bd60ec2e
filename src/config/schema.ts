/**
 * Validation of the merged Reverb-shaped configuration into the typed Config.
 * Every problem becomes one line naming the key, the value and what is allowed.
 */
import { z } from 'zod';
import type { AppConfig, AppProviderConfig, Config, RestartSignal, ServerConfig } from './types.js';
import { laravelDefaults } from './laravel/cache-store.js';
import { resolveDatabaseConnection, type DatabaseConnection } from './laravel/database-connection.js';
import { laravelPulseSettings, type LaravelPulseSettings } from './laravel/pulse.js';
import { resolveRedisConnection, type RedisConnectionConfig } from './laravel/redis-connection.js';
import { pulseSchema, toPulse, type PulseContext } from './pulse.js';
import { DEVELOPMENT_APP, environmentSources, type RawConfig } from './defaults.js';
import { readTlsOptions } from './tls.js';
import { ConfigError } from './errors.js';
import { WEBHOOK_EVENT_TYPES } from './webhooks.js';

export { ConfigError };

/** A number, or a string holding one; `positive` means > 0 (fractions allowed: durations in seconds). */
function numeric(options: { min?: number; integer?: boolean; positive?: boolean } = {}) {
  const min = options.min ?? 0;
  const kind = options.integer ? 'an integer' : 'a number';
  const what = options.positive ? `a positive ${options.integer ? 'integer' : 'number'}` : `${kind} >= ${min}`;
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
    z
      .number({ error: `expected ${what}` })
      .refine((n) => Number.isFinite(n) && (options.positive ? n > 0 : n >= min) && (!options.integer || Number.isInteger(n)), {
        message: `expected ${what}`,
      }),
  );
}

/** A limit that can be turned off: null, '', 0 and an unset variable all mean "none" (null). */
function switchedOff<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' || value === undefined || value === 0 || value === '0' ? null : value), schema.nullable());
}

/** soketi's convention: a limit of 0 or below (or unset) means unlimited (null). */
const unlimitedAtOrBelowZero = z.preprocess(
  (value) => (value === '' || value === undefined || value === null || Number(value) <= 0 ? null : value),
  numeric({ min: 1, integer: true }).nullable(),
);

const flag = z.preprocess((value) => {
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0 || value === '' || value === null) return false;
  return value;
}, z.boolean({ error: 'expected true or false' }));

const nonEmpty = z.preprocess(
  (value) => (typeof value === 'number' ? String(value) : value),
  z.string({ error: 'expected a non-empty string' }).min(1, { message: 'expected a non-empty string' }),
);

const optionalString = z.preprocess(
  (value) => (value === '' || value === undefined ? null : typeof value === 'number' ? String(value) : value),
  z.string({ error: 'expected a string or null' }).nullable(),
);

const webhookSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  // soketi's names, so its users can copy their webhook configuration.
  event_types: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
      z.array(z.enum(WEBHOOK_EVENT_TYPES, { error: `expected event types among ${WEBHOOK_EVENT_TYPES.join(', ')}` })),
    )
    .nullish(),
  filter: z
    .object({
      channel_name_starts_with: z.string().optional(),
      channel_name_ends_with: z.string().optional(),
    })
    .nullish(),
  headers: z.record(z.string(), z.string(), { error: 'expected an object of header names and string values' }).nullish(),
});

const appSchema = z.object({
  app_id: nonEmpty,
  key: nonEmpty,
  secret: nonEmpty,
  enabled: flag.default(true),
  // Reverb's keys that concern Laravel, not the server: where the backend
  // reaches it (host, port, scheme, useTLS), and the legacy `capacity`.
  options: z.unknown().optional(),
  capacity: z.unknown().optional(),
  allowed_origins: z
    .preprocess(
      (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value ?? ['*']),
      z.array(z.string(), { error: 'expected a list of origin patterns such as ["*"] or ["*.example.com"]' }),
    ),
  ping_interval: numeric({ positive: true }).default(60),
  activity_timeout: numeric({ min: 1, integer: true }).default(30),
  pong_timeout: numeric({ positive: true }).default(30),
  max_message_size: numeric({ min: 1, integer: true }).default(10_000),
  max_connections: z.preprocess(
    (value) => (value === '' || value === undefined ? null : value),
    numeric({ min: 1, integer: true }).nullable(),
  ),
  accept_client_events_from: z
    .enum(['members', 'all', 'none'], { error: 'expected one of members, all, none' })
    .default('members'),
  rate_limiting: z
    .object({
      enabled: flag.default(false),
      max_attempts: numeric({ min: 1, integer: true }).default(60),
      decay_seconds: numeric({ positive: true }).default(60),
      terminate_on_limit: flag.default(false),
    })
    .nullish(),
  // Fractional seconds are allowed, as for ping_interval (short TTLs in tests, sub-second caches).
  cache_ttl: numeric({ positive: true }).default(1800),
  // Hardening ceilings (docs/security.md): Pusher's values where Pusher has them.
  max_channels_per_connection: numeric({ min: 1, integer: true }).default(100),
  max_presence_members_per_channel: numeric({ min: 1, integer: true }).default(100),
  max_presence_user_info_size: numeric({ min: 1, integer: true }).default(1024),
  max_messages_per_second: numeric({ min: 1, integer: true }).default(200),
  // Per-app HTTP API and event limits (soketi's and sockudo's set); null = unlimited.
  max_backend_events_per_second: unlimitedAtOrBelowZero,
  max_read_requests_per_second: unlimitedAtOrBelowZero,
  max_event_payload_size: unlimitedAtOrBelowZero,
  // Pusher's fixed values are the defaults and the ceilings an app may only lower.
  max_channel_name_length: numeric({ min: 1, integer: true }).refine((n) => n <= 164, { message: 'expected an integer from 1 to 164' }).default(164),
  max_event_name_length: numeric({ min: 1, integer: true }).default(200),
  max_channels_per_event: numeric({ min: 1, integer: true }).default(100),
  max_batch_size: numeric({ min: 1, integer: true }).default(10),
  subscription_count_events: flag.default(false),
  authorized_connections_timeout: switchedOff(numeric({ positive: true })),
  watchlist_events: flag.default(false),
  webhooks: z.array(webhookSchema, { error: 'expected a list of webhooks such as [{"url": "https://example.com/pusher/webhooks"}]' }).default([]),
  webhook_batching: z
    .object({
      enabled: flag.default(false),
      window_ms: numeric({ min: 1, integer: true }).default(50),
      max_events: numeric({ min: 1, integer: true }).default(100),
    })
    .nullish(),
});

const serverSchema = z.object({
  host: nonEmpty,
  port: numeric({ min: 0, integer: true }).refine((n) => n <= 65535, { message: 'expected a port 0-65535' }),
  path: z.preprocess((value) => value ?? '', z.string({ error: 'expected a path such as "" or "/ws"' })),
  hostname: optionalString,
  // Read only when pulse.enabled is on (toPulse): every Reverb config file has it, and a value
  // that was ignored before must not stop a server that does not use it.
  pulse_ingest_interval: z.unknown().optional(),
  // Laravel Telescope ingestion, done by Laravel's process: accepted and ignored.
  telescope_ingest_interval: z.unknown().optional(),
  max_request_size: numeric({ min: 1, integer: true }).default(10_000),
  max_buffered_output: numeric({ min: 1024, integer: true }).default(1_048_576),
  auth_timestamp_tolerance: numeric({ min: 0 }).default(600),
  shutdown_timeout: numeric({ min: 0 }).default(10),
  http_headers_timeout: numeric({ min: 0.1 }).default(10),
  http_request_timeout: numeric({ min: 0.1 }).default(15),
  transport: z.enum(['auto', 'uws', 'ws'], { error: 'expected one of auto, uws, ws' }).default('auto'),
  max_connections_per_ip_per_second: switchedOff(numeric({ min: 1, integer: true })),
  webhook_timeout: numeric({ positive: true }).default(10),
  metrics: z
    .object({
      enabled: flag.default(false),
      host: optionalString,
      port: z.preprocess(
        (value) => (value === '' || value === undefined ? null : value),
        numeric({ min: 0, integer: true }).refine((n) => n <= 65535, { message: 'expected a port 0-65535' }).nullable(),
      ),
      prefix: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/, { message: 'expected a Prometheus name prefix such as reverb_' }).default('reverb_'),
      token: optionalString,
    })
    .nullish(),
  webhook_queue_size: numeric({ min: 1, integer: true }).default(10_000),
  dashboard: z
    .object({
      enabled: flag.default(false),
      path: z.preprocess(
        (value) => (value === '' || value === null || value === undefined ? '/dashboard' : value),
        z.string().regex(/^\/[A-Za-z0-9._~\-/]*[A-Za-z0-9._~\-]$/, { message: 'expected a path such as "/dashboard"' }),
      ),
      token: optionalString,
    })
    .nullish(),
  pulse: pulseSchema,
  trusted_proxies: z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value ?? []),
    z.array(z.string(), { error: 'expected a list of proxy addresses such as ["127.0.0.1"] or ["*"]' }),
  ),
  options: z
    .object({
      // PHP's empty array `[]` is how Reverb's published config writes "no TLS options".
      tls: z.preprocess(
        (value) => (Array.isArray(value) && value.length === 0 ? {} : value),
        z.record(z.string(), z.unknown(), { error: 'expected an object of TLS options' }).nullish(),
      ),
    })
    .nullish(),
  scaling: z.object({
    enabled: flag.default(false),
    channel: nonEmpty.default('reverb'),
    node_timeout: numeric({ positive: true }).default(15),
    server: z.object({
      url: optionalString,
      host: nonEmpty.default('127.0.0.1'),
      port: numeric({ min: 1, integer: true }).default(6379),
      username: optionalString,
      password: optionalString,
      database: numeric({ min: 0, integer: true }).default(0),
      timeout: numeric({ min: 0 }).default(60),
    }),
  }),
});

const KEYS_TO_MASK = /secret|password|passphrase|local_pk|token|^key$/;

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function describePath(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : `${out}.${String(part)}`),
    prefix,
  );
}

function fail(prefix: string, raw: unknown, error: z.ZodError): never {
  const issue = error.issues[0]!;
  const key = describePath(prefix, issue.path);
  const last = String(issue.path[issue.path.length - 1] ?? '');
  const value = valueAt(raw, issue.path);
  const shown = KEYS_TO_MASK.test(last) && value ? '"***"' : JSON.stringify(value) ?? 'undefined';
  const variable = environmentSources().get(key);
  const source = variable ? ` (${variable})` : '';
  throw new ConfigError(`Invalid configuration: ${key}${source} = ${shown} (${issue.message})`);
}

function normalisePath(path: string): string {
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

/** One app in Reverb's shape (an entry of `apps.apps`, or a row of the apps table); `where` names it in errors. */
export function parseApp(raw: unknown, where: string): AppConfig {
  const parsed = appSchema.safeParse(raw);
  if (!parsed.success) fail(where, raw, parsed.error);
  const app = parsed.data;
  const limits = app.rate_limiting;
  return {
    id: app.app_id,
    key: app.key,
    secret: app.secret,
    enabled: app.enabled,
    allowedOrigins: app.allowed_origins,
    pingInterval: app.ping_interval,
    activityTimeout: app.activity_timeout,
    pongTimeout: app.pong_timeout,
    maxMessageSize: app.max_message_size,
    maxConnections: app.max_connections,
    acceptClientEventsFrom: app.accept_client_events_from,
    rateLimiting: {
      enabled: limits?.enabled === true,
      maxAttempts: limits?.max_attempts ?? 60,
      decaySeconds: limits?.decay_seconds ?? 60,
      terminateOnLimit: limits?.terminate_on_limit ?? false,
    },
    cacheTtl: app.cache_ttl,
    maxChannelsPerConnection: app.max_channels_per_connection,
    maxPresenceMembersPerChannel: app.max_presence_members_per_channel,
    maxPresenceUserInfoSize: app.max_presence_user_info_size,
    maxMessagesPerSecond: app.max_messages_per_second,
    maxBackendEventsPerSecond: app.max_backend_events_per_second,
    maxReadRequestsPerSecond: app.max_read_requests_per_second,
    maxChannelNameLength: app.max_channel_name_length,
    maxEventNameLength: app.max_event_name_length,
    maxEventPayloadSize: app.max_event_payload_size,
    maxChannelsPerEvent: app.max_channels_per_event,
    maxBatchSize: app.max_batch_size,
    webhooks: app.webhooks.map((webhook) => ({
      url: webhook.url,
      eventTypes: webhook.event_types ?? null,
      filter: {
        channelNameStartsWith: webhook.filter?.channel_name_starts_with,
        channelNameEndsWith: webhook.filter?.channel_name_ends_with,
      },
      headers: webhook.headers ?? {},
    })),
    subscriptionCountEvents: app.subscription_count_events,
    authorizedConnectionsTimeout: app.authorized_connections_timeout,
    watchlistEvents: app.watchlist_events,
    webhookBatching: app.webhook_batching?.enabled
      ? { windowMs: app.webhook_batching.window_ms, maxEvents: app.webhook_batching.max_events }
      : null,
  };
}

const databaseProviderSchema = z.object({
  connection: optionalString,
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a table name such as reverb_apps' }).default('reverb_apps'),
  cache_ttl: numeric({ positive: true }).default(60),
});

/** The whole configuration's shape, walked by unknown-keys.ts: every key reverb-ts knows. */
export const configSchema = z.object({
  default: z.unknown(),
  servers: z.object({ reverb: serverSchema }),
  apps: z.object({ provider: z.unknown(), apps: z.array(appSchema), database: databaseProviderSchema }),
});

const providerSchema = z.enum(['config', 'database'], { error: 'expected config or database' }).default('config');

/** Whether the built-in development app may stand in for an unconfigured app, and if not, why not. */
export type DevelopmentApp = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** True for the default app entry when REVERB_APP_ID/KEY/SECRET are all unset. */
function isUnconfigured(app: unknown): boolean {
  const entry = (app ?? {}) as Record<string, unknown>;
  return [entry.app_id, entry.key, entry.secret].every((v) => v === null || v === undefined || v === '');
}

function toAppProvider(raw: RawConfig, databases: DatabaseConnections): AppProviderConfig {
  const section = (raw.apps ?? {}) as Record<string, unknown>;
  const provider = providerSchema.safeParse(section.provider);
  if (!provider.success) fail('apps.provider', section.provider, provider.error);
  if (provider.data === 'config') return { kind: 'config' };
  const parsed = databaseProviderSchema.safeParse(section.database ?? {});
  if (!parsed.success) fail('apps.database', section.database, parsed.error);
  const settings = parsed.data;
  const database = databases(settings.connection);
  if (database.driver === 'sqlite' || database.driver === 'unsupported') {
    const problem = database.driver === 'sqlite' ? `the ${settings.connection ?? 'default'} database connection is SQLite` : `the ${database.reason}`;
    throw new ConfigError(
      `Invalid configuration: apps.provider = "database" (the apps table is read on MySQL, MariaDB or PostgreSQL; ${problem}; set REVERB_APPS_DB_CONNECTION)`,
    );
  }
  return { kind: 'database', database, table: `${database.prefix}${settings.table}`, cacheTtl: settings.cache_ttl };
}

function toApps(raw: RawConfig, developmentApp: DevelopmentApp): { apps: AppConfig[]; usingDevelopmentApp: boolean } {
  const section = (raw.apps ?? {}) as Record<string, unknown>;
  let list = section.apps;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError('Invalid configuration: apps.apps = [] (expected at least one app)');
  }
  let usingDevelopmentApp = false;
  if (list.length === 1 && isUnconfigured(list[0])) {
    if (!developmentApp.allowed) {
      throw new ConfigError(
        `No app is configured: apps.apps[0] has no app_id, key or secret (REVERB_APP_ID, REVERB_APP_KEY, REVERB_APP_SECRET), and the development app is not served because ${developmentApp.reason}. Set those variables (npx reverb install writes them) or list your apps under apps.apps.`,
      );
    }
    list = [{ ...(list[0] as object), ...DEVELOPMENT_APP }];
    usingDevelopmentApp = true;
  }
  const apps = (list as unknown[]).map((app, index) => parseApp(app, `apps.apps[${index}]`));
  for (const field of ['id', 'key'] as const) {
    const seen = new Set<string>();
    for (const app of apps) {
      if (seen.has(app[field])) {
        throw new ConfigError(
          `Invalid configuration: apps.apps[].${field === 'id' ? 'app_id' : 'key'} = "${app[field]}" (expected every app to have a unique ${field === 'id' ? 'app_id' : 'key'})`,
        );
      }
      seen.add(app[field]);
    }
  }
  return { apps, usingDevelopmentApp };
}

/** The Laravel database connection of a name (null: the default one). */
export type DatabaseConnections = (name: string | null) => DatabaseConnection;

function toServer(raw: RawConfig, baseDir: string, pulse: PulseContext): ServerConfig {
  const servers = (raw.servers ?? {}) as Record<string, unknown>;
  const rawServer = servers.reverb;
  const parsed = serverSchema.safeParse(rawServer);
  if (!parsed.success) fail('servers.reverb', rawServer, parsed.error);
  const server = parsed.data;
  const scaling = server.scaling;
  return {
    host: server.host,
    port: server.port,
    path: normalisePath(server.path),
    hostname: server.hostname,
    maxRequestSize: server.max_request_size,
    tls: readTlsOptions(server.options?.tls ?? {}, baseDir, server.hostname),
    maxBufferedBytes: server.max_buffered_output,
    authTimestampTolerance: server.auth_timestamp_tolerance,
    shutdownTimeout: server.shutdown_timeout,
    httpHeadersTimeout: server.http_headers_timeout,
    httpRequestTimeout: server.http_request_timeout,
    transport: server.transport,
    maxConnectionsPerIpPerSecond: server.max_connections_per_ip_per_second,
    trustedProxies: server.trusted_proxies,
    webhookTimeout: server.webhook_timeout,
    webhookQueueSize: server.webhook_queue_size,
    metrics: server.metrics?.enabled
      ? { host: server.metrics.host, port: server.metrics.port, prefix: server.metrics.prefix, token: server.metrics.token }
      : null,
    dashboard: server.dashboard?.enabled ? { path: server.dashboard.path, token: server.dashboard.token } : null,
    pulse: toPulse(server.pulse, server.pulse_ingest_interval, pulse),
    scaling: {
      enabled: scaling.enabled,
      channel: scaling.channel,
      nodeTimeout: scaling.node_timeout,
      server: {
        url: scaling.server.url,
        host: scaling.server.host,
        port: scaling.server.port,
        username: scaling.server.username,
        password: scaling.server.password,
        database: scaling.server.database,
        timeout: scaling.server.timeout,
      },
    },
  };
}

export interface ValidateOptions {
  readonly debug: boolean;
  readonly baseDir: string;
  readonly sources?: readonly string[];
  readonly warnings?: readonly string[];
  readonly restartSignal?: RestartSignal | null;
  /** The Laravel project's database connections (for Pulse); default: Laravel's defaults from process.env. */
  readonly databases?: DatabaseConnections;
  /** Laravel Pulse's configuration (config/pulse.php); default: Pulse's defaults from process.env. */
  readonly pulse?: LaravelPulseSettings;
  /** The Laravel project's Redis connections (for Pulse's Redis ingest); default: Laravel's defaults from process.env. */
  readonly redisConnections?: (name: string | null) => RedisConnectionConfig;
  /** Default: allowed (an embedding host decides for itself). */
  readonly developmentApp?: DevelopmentApp;
}

export function validateConfig(raw: RawConfig, options: ValidateOptions): Config {
  // The server first: its problems (a wrong certificate path) say more than a missing app.
  const databases = options.databases ?? ((name) => resolveDatabaseConnection(laravelDefaults(process.env, options.baseDir).database, name));
  const server = toServer(raw, options.baseDir, {
    databases,
    settings: options.pulse ?? laravelPulseSettings(undefined, undefined, process.env),
    redisConnections: options.redisConnections ?? ((name) => resolveRedisConnection(laravelDefaults(process.env, options.baseDir).database, name)),
  });
  const appProvider = toAppProvider(raw, databases);
  // The database provider's apps live in its table: the configuration's own list is not served.
  const { apps, usingDevelopmentApp } = appProvider.kind === 'config' ? toApps(raw, options.developmentApp ?? { allowed: true }) : { apps: [], usingDevelopmentApp: false };
  return { server, apps, appProvider, usingDevelopmentApp, debug: options.debug, sources: options.sources ?? [], warnings: options.warnings ?? [], restartSignal: options.restartSignal ?? null };
}
