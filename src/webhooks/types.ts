/**
 * Webhooks as Pusher defines them (pusher.com/docs/channels/server_api/webhooks):
 * the events, and each app's targets with soketi's field names so that its
 * users can copy their configuration.
 */

export const WEBHOOK_EVENT_TYPES = [
  'channel_occupied',
  'channel_vacated',
  'member_added',
  'member_removed',
  'client_event',
  'cache_miss',
  'subscription_count',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

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

export interface WebhookTarget {
  readonly url: string;
  /** Event names this target receives; null = all. */
  readonly eventTypes: readonly WebhookEventType[] | null;
  /** Both must hold when set (soketi's `filter`). */
  readonly filter: { readonly channelNameStartsWith?: string; readonly channelNameEndsWith?: string };
  /** Extra request headers; they never replace the Pusher ones. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What one app needs to sign and send its webhooks. */
export interface WebhookApp {
  readonly id: string;
  readonly key: string;
  readonly secret: string;
  readonly webhooks: readonly WebhookTarget[];
  /** null: one event per request, as Pusher does; otherwise events gathered for `windowMs`, at most `maxEvents` a request. */
  readonly batching: { readonly windowMs: number; readonly maxEvents: number } | null;
}
