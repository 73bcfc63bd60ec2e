/** The webhook dispatcher for a configuration: none when no app has webhooks. */
import type { Config } from '../config/types.js';
import { LogLimiter, withSuppressed } from '../observability/log-limiter.js';
import type { Logger } from '../observability/logger.js';
import { WebhookDispatcher, fetchPost } from './dispatcher.js';
import type { WebhookJournal } from './journal.js';

/** A webhook URL for logs: credentials and query (which may hold tokens) left out. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** `journal`: where pending deliveries are kept for another server to finish (scaling on). */
export function createWebhooks(config: Config, logger: Logger, journal?: WebhookJournal): WebhookDispatcher | undefined {
  const apps = config.apps.filter((app) => app.webhooks.length > 0);
  if (apps.length === 0) return undefined;
  // A receiver that is down fails every delivery: say so, without a line per event.
  const limiter = new LogLimiter();
  return new WebhookDispatcher(
    apps.map((app) => ({ id: app.id, key: app.key, secret: app.secret, webhooks: app.webhooks, batching: app.webhookBatching })),
    {
      post: fetchPost,
      timeoutMs: config.server.webhookTimeout * 1000,
      maxQueuedPerTarget: config.server.webhookQueueSize,
      journal,
      failed: (app, target, events, status) => {
        const url = describeUrl(target.url);
        limiter.log(`failed ${url}`, (suppressed) =>
          logger.warn(withSuppressed({ app: app.id, url, events, status: status ?? 'no response' }, suppressed), 'Webhook delivery failed'),
        );
      },
      dropped: (app, target) => {
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
