/**
 * The reverb.config.mjs that `reverb install` writes: Reverb's published
 * config/reverb.php as JavaScript, with the same keys, variables and defaults
 * (src/config/defaults.ts), so users edit the file they know from Laravel.
 */
export const CONFIG_TEMPLATE = `// Configuration for \`reverb start\` (reverb-ts), written by \`reverb install\`.
//
// Same shape and keys as Laravel Reverb's config/reverb.php. \`reverb start\` loads
// .env into process.env before reading this file, so the REVERB_* entries there
// apply. What this file sets overrides the built-in defaults; command-line flags
// (--host, --port, ...) override this file. Every key: docs/configuration.md.

// Laravel's env(): "true", "false", "null" and "empty" become true, false, null
// and ""; other values stay strings; a missing variable gives the fallback.
function env(name, fallback = null) {
  const value = process.env[name];
  if (value === undefined) return fallback;
  switch (value.toLowerCase()) {
    case 'true': case '(true)': return true;
    case 'false': case '(false)': return false;
    case 'null': case '(null)': return null;
    case 'empty': case '(empty)': return '';
    default: return value;
  }
}

export default {
  // The server driver; "reverb" is the only one.
  default: env('REVERB_SERVER', 'reverb'),

  servers: {
    reverb: {
      // Where the server itself listens. Not to be confused with REVERB_HOST /
      // REVERB_PORT, which tell your backend and clients where to reach it
      // (e.g. ws.example.com:443 behind a proxy).
      host: env('REVERB_SERVER_HOST', '0.0.0.0'),
      port: env('REVERB_SERVER_PORT', 8080),
      // Prefix for every route: "/ws" serves /ws/app/{key} and /ws/apps/{id}/...
      path: env('REVERB_SERVER_PATH', ''),
      // The public hostname: shown in the start-up banner, and when Laravel Herd
      // or Valet has a certificate for it, the server uses it and speaks wss://.
      hostname: env('REVERB_HOST'),
      options: {
        // Serve wss:// and https:// directly (most deployments let Nginx do TLS
        // instead). Reverb's names (local_cert, local_pk, passphrase, cafile) or
        // Node's (cert, key, ca); each a file path or PEM text.
        tls: {
          // local_cert: '/etc/letsencrypt/live/ws.example.com/fullchain.pem',
          // local_pk: '/etc/letsencrypt/live/ws.example.com/privkey.pem',
        },
      },
      // Largest HTTP API request (headers + body) in bytes; larger ones get 413.
      max_request_size: env('REVERB_MAX_REQUEST_SIZE', 10_000),
      // Several servers behind a load balancer share channels through Redis.
      scaling: {
        enabled: env('REVERB_SCALING_ENABLED', false),
        channel: env('REVERB_SCALING_CHANNEL', 'reverb'),
        // Seconds without a heartbeat after which the others drop a server's connections.
        node_timeout: env('REVERB_SCALING_NODE_TIMEOUT', 15),
        server: {
          url: env('REDIS_URL'),
          host: env('REDIS_HOST', '127.0.0.1'),
          port: env('REDIS_PORT', '6379'),
          username: env('REDIS_USERNAME'),
          password: env('REDIS_PASSWORD'),
          database: env('REDIS_DB', '0'),
          timeout: env('REDIS_TIMEOUT', 60),
        },
      },
      // Seconds between two writes of the Laravel Pulse message counts (see pulse below).
      pulse_ingest_interval: env('REVERB_PULSE_INGEST_INTERVAL', 15),
      // reverb-ts additions (not in Reverb's file).
      // Unsent bytes one connection may queue before it is closed with 4100.
      max_buffered_output: env('REVERB_MAX_BUFFERED_OUTPUT', 1_048_576),
      // Allowed clock difference (seconds) for signed HTTP API requests; 0 = no check.
      auth_timestamp_tolerance: env('REVERB_AUTH_TIMESTAMP_TOLERANCE', 600),
      // Longest a graceful shutdown (SIGTERM, reverb restart) may take, in seconds.
      shutdown_timeout: env('REVERB_SHUTDOWN_TIMEOUT', 10),
      // Seconds an HTTP client may take to send its request headers / whole request.
      http_headers_timeout: env('REVERB_HTTP_HEADERS_TIMEOUT', 10),
      http_request_timeout: env('REVERB_HTTP_REQUEST_TIMEOUT', 15),
      // WebSocket library: auto (uWebSockets.js when it loads natively, else ws), uws or ws.
      transport: env('REVERB_TRANSPORT', 'auto'),
      // New WebSocket connections one address may open per second; null = unlimited.
      max_connections_per_ip_per_second: env('REVERB_MAX_CONNECTIONS_PER_IP_PER_SECOND'),
      // Proxies whose X-Forwarded-For names the client address, e.g. ['127.0.0.1'].
      trusted_proxies: env('REVERB_TRUSTED_PROXIES', ''),
      // Seconds a webhook request may take; webhook events that may wait per target.
      webhook_timeout: env('REVERB_WEBHOOK_TIMEOUT', 10),
      webhook_queue_size: env('REVERB_WEBHOOK_QUEUE_SIZE', 10_000),
      // Prometheus metrics at GET /metrics (docs/observability.md): on the main port, or on
      // host/port of their own (soketi uses 9601); prefix 'soketi_' fits soketi's dashboards.
      metrics: {
        enabled: env('REVERB_METRICS_ENABLED', false),
        host: env('REVERB_METRICS_HOST'),
        port: env('REVERB_METRICS_PORT'),
        prefix: env('REVERB_METRICS_PREFIX', 'reverb_'),
        token: env('REVERB_METRICS_TOKEN'),
      },
      // The built-in dashboard with a debug console (docs/dashboard.md) at path; log in with an
      // app id and its secret (that app), or with the token (every app).
      dashboard: {
        enabled: env('REVERB_DASHBOARD_ENABLED', false),
        path: env('REVERB_DASHBOARD_PATH', '/dashboard'),
        token: env('REVERB_DASHBOARD_TOKEN'),
      },
      // Laravel Pulse's Reverb "Messages" card (docs/observability.md): message counts written the
      // way Pulse's ingest driver does (its tables, or its Redis ingest stream). null = as the
      // project's config/pulse.php says (on when it registers Reverb's ReverbMessages recorder).
      pulse: {
        enabled: env('REVERB_PULSE_ENABLED'),
        sample_rate: env('REVERB_PULSE_SAMPLE_RATE'),
        connection: env('PULSE_DB_CONNECTION'),
        ingest_driver: env('PULSE_INGEST_DRIVER'),
        redis_connection: env('PULSE_REDIS_CONNECTION'),
      },
    },
  },

  apps: {
    // 'config': the apps below; 'database': apps from a table, managed with \`reverb apps:*\` (docs/apps.md).
    provider: env('REVERB_APP_PROVIDER', 'config'),
    database: {
      // A Laravel database connection of the project (null = DB_CONNECTION, with its DB_* variables).
      connection: env('REVERB_APPS_DB_CONNECTION'),
      table: env('REVERB_APPS_TABLE', 'reverb_apps'),
      // Seconds an app (or an unknown key) is answered from memory; changes made in the table show within it.
      cache_ttl: env('REVERB_APPS_CACHE_TTL', 60),
    },
    // One entry per application; add more objects to serve several apps.
    apps: [
      {
        key: env('REVERB_APP_KEY'),
        secret: env('REVERB_APP_SECRET'),
        app_id: env('REVERB_APP_ID'),
        // Used by your backend to reach the server; the server ignores them.
        options: {
          host: env('REVERB_HOST'),
          port: env('REVERB_PORT', 443),
          scheme: env('REVERB_SCHEME', 'https'),
          useTLS: env('REVERB_SCHEME', 'https') === 'https',
        },
        // Origins allowed to connect, e.g. ['app.example.com', '*.example.com'].
        allowed_origins: ['*'],
        // Seconds of silence before the server pings a connection.
        ping_interval: env('REVERB_APP_PING_INTERVAL', 60),
        // Seconds, told to clients in pusher:connection_established.
        activity_timeout: env('REVERB_APP_ACTIVITY_TIMEOUT', 30),
        // Seconds a pinged connection may stay silent before it is closed (4201).
        pong_timeout: env('REVERB_APP_PONG_TIMEOUT', 30),
        // Connection limit for this app on this server; null = unlimited.
        max_connections: env('REVERB_APP_MAX_CONNECTIONS'),
        // Largest inbound WebSocket message in bytes; larger ones close with 1009.
        max_message_size: env('REVERB_APP_MAX_MESSAGE_SIZE', 10_000),
        // Who may send client-* events: members, all or none.
        accept_client_events_from: env('REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM', 'members'),
        rate_limiting: {
          enabled: env('REVERB_APP_RATE_LIMITING_ENABLED', false),
          max_attempts: env('REVERB_APP_RATE_LIMIT_MAX_ATTEMPTS', 60),
          decay_seconds: env('REVERB_APP_RATE_LIMIT_DECAY_SECONDS', 60),
          terminate_on_limit: env('REVERB_APP_RATE_LIMIT_TERMINATE', false),
        },
        // Seconds a cache-* channel keeps its last event.
        cache_ttl: env('REVERB_APP_CACHE_TTL', 1800),
        // Ceilings that keep one client from exhausting the server (docs/security.md).
        max_channels_per_connection: env('REVERB_APP_MAX_CHANNELS_PER_CONNECTION', 100),
        max_presence_members_per_channel: env('REVERB_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL', 100),
        // Bytes of a presence member's user_info as JSON.
        max_presence_user_info_size: env('REVERB_APP_MAX_PRESENCE_USER_INFO_SIZE', 1024),
        // Inbound messages of any kind per connection per second.
        max_messages_per_second: env('REVERB_APP_MAX_MESSAGES_PER_SECOND', 200),
        // HTTP API limits per app on each server (0 or null = unlimited): event points (channels
        // per event, summed over a batch) and GET requests per second; beyond them 429.
        max_backend_events_per_second: env('REVERB_APP_MAX_BACKEND_EVENTS_PER_SECOND'),
        max_read_requests_per_second: env('REVERB_APP_MAX_READ_REQUESTS_PER_SECOND'),
        // Pusher's limits, which an app may lower; bytes of an event's data (Pusher: 10 KB; null = unlimited).
        max_channel_name_length: env('REVERB_APP_MAX_CHANNEL_NAME_LENGTH', 164),
        max_event_name_length: env('REVERB_APP_MAX_EVENT_NAME_LENGTH', 200),
        max_event_payload_size: env('REVERB_APP_MAX_EVENT_PAYLOAD_SIZE'),
        max_channels_per_event: env('REVERB_APP_MAX_CHANNELS_PER_EVENT', 100),
        max_batch_size: env('REVERB_APP_MAX_BATCH_SIZE', 10),
        // Send pusher_internal:subscription_count to subscribers (Pusher's opt-in feature).
        subscription_count_events: env('REVERB_APP_SUBSCRIPTION_COUNT_EVENTS', false),
        // Seconds a connection may stay without signing in or joining a private channel; null = forever.
        authorized_connections_timeout: env('REVERB_APP_AUTHORIZED_CONNECTIONS_TIMEOUT'),
        // Tell signed-in users when the users of their user_data.watchlist come online / go offline.
        watchlist_events: env('REVERB_APP_WATCHLIST_EVENTS', false),
        // Webhooks (docs/webhooks.md): a list of { url, event_types, filter, headers }.
        webhooks: env('REVERB_APP_WEBHOOK_URL')
          ? [{ url: env('REVERB_APP_WEBHOOK_URL'), event_types: env('REVERB_APP_WEBHOOK_EVENTS') }]
          : [],
        // Gather webhook events per window into one request (off: one event per request, as Pusher).
        webhook_batching: {
          enabled: env('REVERB_APP_WEBHOOK_BATCHING', false),
          window_ms: env('REVERB_APP_WEBHOOK_BATCHING_WINDOW', 50),
          max_events: env('REVERB_APP_WEBHOOK_BATCHING_MAX_EVENTS', 100),
        },
      },
    ],
  },
};
`;
