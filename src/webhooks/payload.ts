/** Which events a target gets, and the signed request that carries them. */
import { hmacHex } from '../protocol/signatures.js';
import type { WebhookEvent, WebhookTarget } from './types.js';

export function targetWants(target: WebhookTarget, event: WebhookEvent): boolean {
  if (target.eventTypes !== null && !target.eventTypes.includes(event.name)) return false;
  const { channelNameStartsWith: prefix, channelNameEndsWith: suffix } = target.filter;
  if (prefix !== undefined && !event.channel.startsWith(prefix)) return false;
  if (suffix !== undefined && !event.channel.endsWith(suffix)) return false;
  return true;
}

export interface SignedRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/**
 * `{"time_ms":…,"events":[…]}` signed with the app secret: HMAC-SHA256 hex of
 * the exact body bytes in `X-Pusher-Signature`, what the Pusher SDKs' `webhook()` checks.
 */
export function signedRequest(
  app: { readonly key: string; readonly secret: string },
  target: WebhookTarget,
  events: readonly WebhookEvent[],
  timeMs: number,
): SignedRequest {
  const body = JSON.stringify({ time_ms: timeMs, events });
  return {
    body,
    headers: {
      ...target.headers,
      'Content-Type': 'application/json',
      'X-Pusher-Key': app.key,
      'X-Pusher-Signature': hmacHex(app.secret, body),
    },
  };
}
