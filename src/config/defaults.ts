/**
 * Laravel Reverb's published config/reverb.php, as a function of the
 * environment: same keys, same variables, same defaults (reference/reverb.md §2).
 * Values stay raw here; the schema validates and types them.
 */
import { env, type Env } from './env.js';

export type RawConfig = Record<string, unknown>;

export function reverbDefaults(vars: Env): RawConfig {
  return {
    default: env(vars, 'REVERB_SERVER', 'reverb'),
    servers: {
      reverb: {
        host: env(vars, 'REVERB_SERVER_HOST', '0.0.0.0'),
        port: env(vars, 'REVERB_SERVER_PORT', 8080),
        path: env(vars, 'REVERB_SERVER_PATH', ''),
        hostname: env(vars, 'REVERB_HOST', null),
        options: { tls: {} },
        max_request_size: env(vars, 'REVERB_MAX_REQUEST_SIZE', 10_000),
        scaling: {
          enabled: env(vars, 'REVERB_SCALING_ENABLED', false),
          channel: env(vars, 'REVERB_SCALING_CHANNEL', 'reverb'),
          node_timeout: env(vars, 'REVERB_SCALING_NODE_TIMEOUT', 15),
          server: {
            url: env(vars, 'REDIS_URL', null),
            host: env(vars, 'REDIS_HOST', '127.0.0.1'),
            port: env(vars, 'REDIS_PORT', '6379'),
            username: env(vars, 'REDIS_USERNAME', null),
            password: env(vars, 'REDIS_PASSWORD', null),
            database: env(vars, 'REDIS_DB', '0'),
            timeout: env(vars, 'REDIS_TIMEOUT', 60),
          },
        },
        pulse_ingest_interval: env(vars, 'REVERB_PULSE_INGEST_INTERVAL', 15),
        // reverb-ts additions (not in Reverb's file), each with its own variable.
        max_buffered_output: env(vars, 'REVERB_MAX_BUFFERED_OUTPUT', 1_048_576),
        auth_timestamp_tolerance: env(vars, 'REVERB_AUTH_TIMESTAMP_TOLERANCE', 600),
        shutdown_timeout: env(vars, 'REVERB_SHUTDOWN_TIMEOUT', 10),
        http_headers_timeout: env(vars, 'REVERB_HTTP_HEADERS_TIMEOUT', 10),
        http_request_timeout: env(vars, 'REVERB_HTTP_REQUEST_TIMEOUT', 15),
        transport: env(vars, 'REVERB_TRANSPORT', 'auto'),
        max_connections_per_ip_per_second: env(vars, 'REVERB_MAX_CONNECTIONS_PER_IP_PER_SECOND', null),
        trusted_proxies: env(vars, 'REVERB_TRUSTED_PROXIES', ''),
        webhook_timeout: env(vars, 'REVERB_WEBHOOK_TIMEOUT', 10),
        webhook_queue_size: env(vars, 'REVERB_WEBHOOK_QUEUE_SIZE', 10_000),
        metrics: {
          enabled: env(vars, 'REVERB_METRICS_ENABLED', false),
          host: env(vars, 'REVERB_METRICS_HOST', null),
          port: env(vars, 'REVERB_METRICS_PORT', null),
          prefix: env(vars, 'REVERB_METRICS_PREFIX', 'reverb_'),
          token: env(vars, 'REVERB_METRICS_TOKEN', null),
        },
        dashboard: {
          enabled: env(vars, 'REVERB_DASHBOARD_ENABLED', false),
          path: env(vars, 'REVERB_DASHBOARD_PATH', '/dashboard'),
          token: env(vars, 'REVERB_DASHBOARD_TOKEN', null),
        },
        pulse: {
          // null: as the Laravel project's config/pulse.php says (config/pulse.ts).
          enabled: env(vars, 'REVERB_PULSE_ENABLED', null),
          sample_rate: env(vars, 'REVERB_PULSE_SAMPLE_RATE', null),
          // Pulse's own variables; null = what config/pulse.php says, else Pulse's defaults.
          connection: env(vars, 'PULSE_DB_CONNECTION', null),
          ingest_driver: env(vars, 'PULSE_INGEST_DRIVER', null),
          redis_connection: env(vars, 'PULSE_REDIS_CONNECTION', null),
        },
      },
    },
    apps: {
      provider: env(vars, 'REVERB_APP_PROVIDER', 'config'),
      apps: [defaultApp(vars)],
      // reverb-ts: the database provider's table (docs/apps.md).
      database: {
        // A Laravel database connection name; null = DB_CONNECTION.
        connection: env(vars, 'REVERB_APPS_DB_CONNECTION', null),
        table: env(vars, 'REVERB_APPS_TABLE', 'reverb_apps'),
        cache_ttl: env(vars, 'REVERB_APPS_CACHE_TTL', 60),
      },
    },
  };
}

function defaultApp(vars: Env): RawConfig {
  return {
    key: env(vars, 'REVERB_APP_KEY', null),
    secret: env(vars, 'REVERB_APP_SECRET', null),
    app_id: env(vars, 'REVERB_APP_ID', null),
    options: {
      host: env(vars, 'REVERB_HOST', null),
      port: env(vars, 'REVERB_PORT', 443),
      scheme: env(vars, 'REVERB_SCHEME', 'https'),
    },
    allowed_origins: ['*'],
    ping_interval: env(vars, 'REVERB_APP_PING_INTERVAL', 60),
    activity_timeout: env(vars, 'REVERB_APP_ACTIVITY_TIMEOUT', 30),
    max_connections: env(vars, 'REVERB_APP_MAX_CONNECTIONS', null),
    max_message_size: env(vars, 'REVERB_APP_MAX_MESSAGE_SIZE', 10_000),
    accept_client_events_from: env(vars, 'REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM', 'members'),
    rate_limiting: {
      enabled: env(vars, 'REVERB_APP_RATE_LIMITING_ENABLED', false),
      max_attempts: env(vars, 'REVERB_APP_RATE_LIMIT_MAX_ATTEMPTS', 60),
      decay_seconds: env(vars, 'REVERB_APP_RATE_LIMIT_DECAY_SECONDS', 60),
      terminate_on_limit: env(vars, 'REVERB_APP_RATE_LIMIT_TERMINATE', false),
    },
    pong_timeout: env(vars, 'REVERB_APP_PONG_TIMEOUT', 30),
    cache_ttl: env(vars, 'REVERB_APP_CACHE_TTL', 1800),
    max_channels_per_connection: env(vars, 'REVERB_APP_MAX_CHANNELS_PER_CONNECTION', 100),
    max_presence_members_per_channel: env(vars, 'REVERB_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL', 100),
    max_presence_user_info_size: env(vars, 'REVERB_APP_MAX_PRESENCE_USER_INFO_SIZE', 1024),
    max_messages_per_second: env(vars, 'REVERB_APP_MAX_MESSAGES_PER_SECOND', 200),
    max_backend_events_per_second: env(vars, 'REVERB_APP_MAX_BACKEND_EVENTS_PER_SECOND', null),
    max_read_requests_per_second: env(vars, 'REVERB_APP_MAX_READ_REQUESTS_PER_SECOND', null),
    max_channel_name_length: env(vars, 'REVERB_APP_MAX_CHANNEL_NAME_LENGTH', 164),
    max_event_name_length: env(vars, 'REVERB_APP_MAX_EVENT_NAME_LENGTH', 200),
    max_event_payload_size: env(vars, 'REVERB_APP_MAX_EVENT_PAYLOAD_SIZE', null),
    max_channels_per_event: env(vars, 'REVERB_APP_MAX_CHANNELS_PER_EVENT', 100),
    max_batch_size: env(vars, 'REVERB_APP_MAX_BATCH_SIZE', 10),
    subscription_count_events: env(vars, 'REVERB_APP_SUBSCRIPTION_COUNT_EVENTS', false),
    authorized_connections_timeout: env(vars, 'REVERB_APP_AUTHORIZED_CONNECTIONS_TIMEOUT', null),
    watchlist_events: env(vars, 'REVERB_APP_WATCHLIST_EVENTS', false),
    webhooks: envWebhooks(vars),
    webhook_batching: {
      enabled: env(vars, 'REVERB_APP_WEBHOOK_BATCHING', false),
      window_ms: env(vars, 'REVERB_APP_WEBHOOK_BATCHING_WINDOW', 50),
      max_events: env(vars, 'REVERB_APP_WEBHOOK_BATCHING_MAX_EVENTS', 100),
    },
  };
}

/** The one-app `.env` setup: one webhook URL, with the event types it gets (comma-separated; unset = all). */
function envWebhooks(vars: Env): RawConfig[] {
  const url = env(vars, 'REVERB_APP_WEBHOOK_URL', null);
  if (url === null || url === '') return [];
  return [{ url, event_types: env(vars, 'REVERB_APP_WEBHOOK_EVENTS', null) }];
}

/** The app served when nothing is configured, so `npm start` works on a fresh clone. */
export const DEVELOPMENT_APP = {
  app_id: 'reverb-dev',
  key: 'reverb-dev-key',
  secret: 'reverb-dev-secret',
} as const;

const MARKER = '\u0000env:';

/**
 * Which environment variable feeds each config key ("servers.reverb.port" ->
 * "REVERB_SERVER_PORT"), found by building the defaults from an environment
 * whose every variable names itself — so the table cannot drift from above.
 */
export function environmentSources(): ReadonlyMap<string, string> {
  const naming = new Proxy({}, { get: (_target, name) => (typeof name === 'string' ? `${MARKER}${name}` : undefined) });
  const sources = new Map<string, string>();
  const walk = (node: unknown, path: string): void => {
    if (typeof node === 'string' && node.startsWith(MARKER)) sources.set(path, node.slice(MARKER.length));
    else if (Array.isArray(node)) node.forEach((item, index) => walk(item, `${path}[${index}]`));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) walk(value, path ? `${path}.${key}` : key);
    }
  };
  walk(reverbDefaults(naming as Env), '');
  return sources;
}
