/**
 * Composition root: builds the protocol server, cluster, transport and HTTP
 * API from one Config, starts listening and drives the liveness sweep.
 */
import type { Config } from './config/types.js';
import { LocalCluster } from './cluster/local.js';
import { RedisCluster } from './cluster/redis.js';
import { createApiRouter } from './http/router.js';
import { PusherServer } from './protocol/server.js';
import type { Transport } from './transport/types.js';
import { selectTransport } from './transport/select.js';
import type { ServerHooks } from './observability/hooks.js';
import type { Logger } from './observability/logger.js';
import { silentLogger } from './observability/logger.js';
import { createObserver } from './observability/observer.js';
import { createWebhooks, webhookApp } from './webhooks/create.js';
import { createApplicationProvider } from './apps/create.js';
import { ServerMetrics } from './metrics/metrics.js';
import { listenForMetrics } from './metrics/listener.js';
import { combineObservers } from './observability/combine.js';
import type { ProtocolObserver } from './protocol/observer.js';
import { PulseRecorder } from './pulse/recorder.js';
import { Dashboard } from './dashboard/dashboard.js';

export interface StartOptions {
  readonly config: Config;
  readonly hooks?: ServerHooks;
  readonly logger?: Logger;
  readonly transport?: Transport;
  /** Called when a restart is broadcast to this installation (`reverb restart` with scaling on). */
  readonly onRestart?: () => void;
}

export interface RunningServer {
  readonly config: Config;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The port of the separate metrics listener, when there is one. */
  readonly metricsPort: number | undefined;
  readonly protocol: PusherServer;
  /** The transport in use, with its library and why when `auto` fell back to ws. */
  readonly transport: string;
  /** Number of open WebSocket connections on this server. */
  readonly connections: number;
  /**
   * Graceful shutdown: stop accepting, close every WebSocket with 4200, let
   * in-flight API requests finish; bounded by `shutdown_timeout`.
   */
  close(): Promise<void>;
}

/**
 * The largest WebSocket message the transport takes when apps come from a
 * database (whose max_message_size is not known at start-up); each app's own
 * limit is then checked by the protocol.
 */
const DATABASE_MAX_PAYLOAD = 1_048_576;

/** How often liveness is checked: fine enough for the shortest configured interval (1 s for apps from a database). */
function sweepPeriod(config: Config): number {
  const shortest = Math.min(
    config.appProvider.kind === 'database' ? 4 : Infinity,
    ...config.apps.flatMap((app) => [app.pingInterval, app.pongTimeout, app.authorizedConnectionsTimeout ?? Infinity]),
  );
  return Math.max(50, Math.min(1000, (shortest * 1000) / 4));
}

export function bannerLine(config: Config, port: number): string {
  const { host, path, hostname, tls } = config.server;
  const where = `${host}:${port}${path}`;
  const suffix = hostname && hostname !== host ? ` (${hostname})` : '';
  return `Starting ${tls ? 'secure ' : ''}server on ${where}${suffix}`;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? silentLogger();
  const { transport, description } = options.transport
    ? { transport: options.transport, description: options.transport.name }
    : selectTransport(config.server.transport);
  const metricsConfig = config.server.metrics;
  const metrics = metricsConfig ? new ServerMetrics({ prefix: metricsConfig.prefix, port: config.server.port }) : undefined;
  const cluster = config.server.scaling.enabled
    ? new RedisCluster({
        scaling: config.server.scaling,
        logger,
        nodeTimeout: config.server.scaling.nodeTimeout,
        onRestart: options.onRestart,
        commands: metrics?.redisCommands(),
      })
    : new LocalCluster();
  const dashboard = config.server.dashboard
    ? new Dashboard({
        config: config.server.dashboard,
        prefix: config.server.path,
        secureCookie: config.server.tls !== null,
        trustedProxies: config.server.trustedProxies,
        scaling: config.server.scaling.enabled ? config.server.scaling : undefined,
      })
    : undefined;
  const webhooks = createWebhooks(
    config,
    logger,
    cluster instanceof RedisCluster ? cluster.webhookJournal : undefined,
    dashboard ? dashboard.webhookCounters(metrics?.webhookCounters()) : metrics?.webhookCounters(),
  );
  if (webhooks) metrics?.watchWebhooks(webhooks);
  if (cluster instanceof RedisCluster) metrics?.watchRedis(() => cluster.redisAvailable);
  const observer = createObserver(logger, config.debug, options.hooks);
  const pulse = config.server.pulse ? new PulseRecorder(config.server.pulse, logger) : undefined;
  if (pulse) logger.info(pulse.startLine());
  const apps = await createApplicationProvider(config, logger, metrics?.appStoreQueried());
  const protocol = new PusherServer({
    apps,
    initialApps: config.apps,
    appLoaded: (app) => {
      webhooks?.configure(webhookApp(app));
      if (cluster instanceof RedisCluster) cluster.appLoaded(app);
    },
    cluster,
    prepare: (text) => transport.prepare(text),
    observer: [metrics?.observer(), pulse?.observer(), dashboard?.observer()].reduce<ProtocolObserver>((all, extra) => (extra ? combineObservers(all, extra) : all), observer),
    maxBufferedBytes: config.server.maxBufferedBytes,
    maxConnectionsPerIpPerSecond: config.server.maxConnectionsPerIpPerSecond,
    trustedProxies: config.server.trustedProxies,
    channelEvents: webhooks,
  });
  cluster.attach(protocol);
  metrics?.attach(protocol);
  if (cluster instanceof RedisCluster) await cluster.start();
  await dashboard?.start(protocol);
  if (dashboard) logger.info(`Dashboard at ${config.server.path}${dashboard.path} (sign in with an app id and its secret${config.server.dashboard?.token ? ', or the dashboard token' : ''})`);

  const metricsEndpoint = metrics && metricsConfig ? { token: metricsConfig.token, render: () => metrics.render() } : undefined;
  // Metrics on a listener of their own when a host or port is given, else at /metrics of the API.
  const ownListener = metricsConfig && (metricsConfig.host !== null || metricsConfig.port !== null);
  const metricsListener =
    metricsEndpoint && ownListener
      ? await listenForMetrics(metricsEndpoint, metricsConfig.host ?? config.server.host, metricsConfig.port ?? 9601)
      : undefined;
  const http = createApiRouter({
    server: protocol,
    prefix: config.server.path,
    authTimestampTolerance: config.server.authTimestampTolerance,
    observe: metrics ? (call) => metrics.apiCall(call) : undefined,
    metrics: ownListener ? undefined : metricsEndpoint,
    dashboard,
  });
  const tls = config.server.tls;
  const { port } = await transport.listen(
    {
      host: config.server.host,
      port: config.server.port,
      path: config.server.path,
      maxPayload: Math.max(...config.apps.map((app) => app.maxMessageSize), config.appProvider.kind === 'database' ? DATABASE_MAX_PAYLOAD : 0),
      maxRequestSize: config.server.maxRequestSize,
      headersTimeout: config.server.httpHeadersTimeout * 1000,
      requestTimeout: config.server.httpRequestTimeout * 1000,
      tls: tls?.cert && tls.key ? { cert: tls.cert, key: tls.key, ca: tls.ca, passphrase: tls.passphrase } : null,
      logger,
    },
    { open: (socket, request) => protocol.open(socket, request), http },
  );

  const sweep = setInterval(() => protocol.sweep(), sweepPeriod(config));
  let closing: Promise<void> | undefined;

  const close = async (): Promise<void> => {
    clearInterval(sweep);
    const deadline = Date.now() + config.server.shutdownTimeout * 1000;
    protocol.closeAll();
    dashboard?.close();
    await transport.stopAccepting();
    await transport.drainHttp(Math.max(0, deadline - Date.now()));
    while (protocol.connectionCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The clients' departures above produced the last webhooks: deliver them within what is left.
    await webhooks?.close(Math.max(0, deadline - Date.now()));
    await pulse?.close(Math.max(0, deadline - Date.now()));
    await cluster.close();
    await apps.close();
    metricsListener?.server.close();
  };

  return {
    config,
    port,
    metricsPort: metricsListener?.port,
    protocol,
    transport: description,
    get connections() {
      return protocol.connectionCount;
    },
    close: () => (closing ??= close()),
  };
}
