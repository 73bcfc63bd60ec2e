/**
 * Recent errors per app: what clients were told (`pusher:error`,
 * subscription errors), refused handshakes, limit refusals, slow consumers,
 * failed handlers and webhook failures. A bounded ring per app; errors of
 * handshakes for unknown app keys are kept apart, for token sessions.
 */
import { Ring } from './ring.js';
import type { DebugFeed } from './feed.js';

const PER_APP = 100;

export interface RecentError {
  readonly time: number;
  /** `client_error`, `subscription_error`, `refused`, `limit`, `slow_consumer`, `handler_failed`, `webhook_failed`, `webhook_dropped`. */
  readonly kind: string;
  readonly message: string;
  readonly code?: number;
  readonly socket_id?: string;
  readonly channel?: string;
}

/** The key under which errors not belonging to a known app are kept. */
export const NO_APP = '';

export class RecentErrors {
  private readonly rings = new Map<string, Ring<RecentError>>();

  constructor(private readonly now: () => number = Date.now) {}

  add(appId: string, error: Omit<RecentError, 'time'>): RecentError {
    let ring = this.rings.get(appId);
    if (!ring) this.rings.set(appId, (ring = new Ring(PER_APP)));
    const entry = { time: this.now(), ...error };
    ring.push(entry);
    return entry;
  }

  /** Newest first. */
  of(appId: string): RecentError[] {
    return (this.rings.get(appId)?.toArray() ?? []).reverse();
  }
}

/**
 * Where errors are reported: kept in the ring, and shown in the consoles
 * watching the app (of this server or, relayed, of another one).
 */
export function errorReporter(errors: RecentErrors, feed: DebugFeed): (appId: string, error: Omit<RecentError, 'time'>) => void {
  return (appId, error) => {
    const entry = errors.add(appId, error);
    if (appId !== NO_APP && feed.active(appId)) {
      const { kind, message, ...where } = error;
      feed.emit({ type: 'error', app: appId, time: entry.time, ...where, detail: `${kind}: ${message}` });
    }
  };
}
