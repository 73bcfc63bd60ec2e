/**
 * Webhook deliveries as the dashboard sees them: each request in the debug
 * console (the events it carried and the status it got), failures and drops
 * among the recent errors. Joined to the counters metrics already take.
 */
import type { WebhookCounters } from '../webhooks/create.js';
import { errorReporter, type RecentErrors } from './errors.js';
import { cut, type DebugFeed } from './feed.js';

function eventNames(body: string): string {
  try {
    const events = (JSON.parse(body) as { events?: { name?: unknown; channel?: unknown }[] }).events ?? [];
    return events.map((event) => `${String(event.name)} ${String(event.channel)}`).join(', ');
  } catch {
    return '';
  }
}

export function webhookCounters(feed: DebugFeed, errors: RecentErrors, also?: WebhookCounters, now: () => number = Date.now): WebhookCounters {
  const report = errorReporter(errors, feed);
  return {
    attempted(appId, status, url, body) {
      also?.attempted(appId, status, url, body);
      if (!feed.active(appId)) return;
      feed.emit({ type: 'webhook', app: appId, time: now(), status: status ?? null, detail: `${url}: ${cut(eventNames(body), 300)}`, data: cut(body) });
    },
    failed(appId, events) {
      also?.failed(appId, events);
      report(appId, { kind: 'webhook_failed', message: `${events} webhook event${events === 1 ? '' : 's'} given up after retries` });
    },
    dropped(appId) {
      also?.dropped(appId);
      report(appId, { kind: 'webhook_dropped', message: 'Webhook event dropped: the queue was full' });
    },
  };
}
