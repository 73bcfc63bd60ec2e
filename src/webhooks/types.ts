/**
 * Webhooks as Pusher defines them (pusher.com/docs/channels/server_api/webhooks):
 * the events, and what an app needs to sign and send them. Targets are
 * configuration (src/config/webhooks.ts).
 */
import type { WebhookTarget } from '../config/webhooks.js';

export type { WebhookTarget };

/** One event of a webhook body's `events` list, exactly as Pusher sends it. */
export type WebhookEvent =
  | { readonly name: 'channel_occupied' | 'channel_vacated' | 'cache_miss'; readonly channel: string }
  | { readonly name: 'member_added' | 'member_removed'; readonly channel: string; readonly user_id: string }
  | {
      readonly name: 'client_event';
      readonly channel: string;
      readonly event: string;
      readonly data: string;
      readonly socket_id: string;
      readonly user_id?: string;
    }
  | { readonly name: 'subscription_count'; readonly channel: string; readonly subscription_count: number };

/** What one app needs to sign and send its webhooks. */
export interface WebhookApp {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
  readonly webhooks: readonly WebhookTarget[];
  /** null: one event per request, as Pusher does; otherwise events gathered for `windowMs`, at most `maxEvents` a request. */
  readonly batching: { readonly windowMs: number; readonly maxEvents: number } | null;
}
