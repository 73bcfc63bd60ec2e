/** The webhook settings of an app (docs/webhooks.md): the event names, and a target with soketi's field names. */

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

export interface WebhookTarget {
  readonly url: string;
  /** Event names this target receives; null = all. */
  readonly eventTypes: readonly WebhookEventType[] | null;
  /** Both must hold when set (soketi's `filter`). */
  readonly filter: { readonly channelNameStartsWith?: string; readonly channelNameEndsWith?: string };
  /** Extra request headers; they never replace the Pusher ones. */
  readonly headers: Readonly<Record<string, string>>;
}
