/** The webhook dispatcher for a configuration: none when no app has webhooks. */
import type { AppConfig, Config } from '../config/types.js';
import { LogLimiter, withSuppressed } from '../observability/log-limiter.js';
import type { Logger } from '../observability/logger.js';
import { WebhookDispatcher, fetchPost } from './dispatcher.js';
import type { WebhookJournal } from './journal.js';
import type { WebhookApp } from './types.js';

/** What the dispatcher needs of an app. */
export function webhookApp(app: AppConfig): WebhookApp {
  return { id: app.id, key: app.key, secret: app.secret, webhooks: app.webhooks, batching: app.webhookBatching };
}

/** A webhook URL for logs: credentials and query (which may hold tokens) left out. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** What webhook delivery reports to metrics, per app. */
export interface WebhookCounters {
  /** A request was sent to `url` (without query or credentials) with `body`; `status` undefined: no answer. */
  attempted(appId: string, status: number | undefined, url: string, body: string): void;
  failed(appId: string, events: number): void;
  dropped(appId: string): void;
}

/**
 * `journal`: where pending deliveries are kept for another server to finish
 * (scaling on); `counters`: metrics.
 */
export function createWebhooks(
  config: Config,
  logger: Logger,
  journal?: WebhookJournal,
  counters?: WebhookCounters,
): WebhookDispatcher | undefined {
  const apps = config.apps.filter((app) => app.webhooks.length > 0);
  // Apps from a database may get webhooks at any time.
  if (apps.length === 0 && config.appProvider.kind === 'config') return undefined;
  // A receiver that is down fails every delivery: say so, without a line per event.
  const limiter = new LogLimiter();
  return new WebhookDispatcher(
    apps.map(webhookApp),
    {
      post: fetchPost,
      timeoutMs: config.server.webhookTimeout * 1000,
      maxQueuedPerTarget: config.server.webhookQueueSize,
      journal,
      attempted: counters ? (app, status, url, body) => counters.attempted(app.id, status, describeUrl(url), body) : undefined,
      failed: (app, target, events, status) => {
        counters?.failed(app.id, events);
        const url = describeUrl(target.url);
        limiter.log(`failed ${url}`, (suppressed) =>
          logger.warn(withSuppressed({ app: app.id, url, events, status: status ?? 'no response' }, suppressed), 'Webhook delivery failed'),
        );
      },
      dropped: (app, target) => {
        counters?.dropped(app.id);
        const url = describeUrl(target.url);
        limiter.log(`dropped ${url}`, (suppressed) =>
          logger.warn(
            withSuppressed({ app: app.id, url }, suppressed),
            `Webhook queue full (${config.server.webhookQueueSize} events waiting): dropping events`,
          ),
        );
      },
    },
  );
}
