/**
 * Per-app rate limits in 1-second fixed windows (soketi's
 * `max_backend_events_per_second` and `max_read_requests_per_second`),
 * counted on this server: the cluster of one, and any cluster while Redis
 * cannot count them. No timers: a window is renewed by the first request
 * after it ended.
 */
import type { LimitName } from './observer.js';

export const RATE_WINDOW_MS = 1000;

/** What spending from an app's window gave. */
export interface RateSpend {
  readonly allowed: boolean;
  /** Points spent in the window, this request's included when allowed. */
  readonly spent: number;
  /** Milliseconds until the window ends. */
  readonly resetMs: number;
}

/** Windows kept before the ended ones are dropped (apps come and go with a database provider). */
const PRUNE_AT = 10_000;

export class RateWindows {
  private readonly windows = new Map<string, { start: number; spent: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Spends `points` of the window if they fit under `limit`; a refused request spends nothing. */
  spend(appId: string, name: LimitName, points: number, limit: number): RateSpend {
    const now = this.now();
    const key = `${appId}\n${name}`;
    let window = this.windows.get(key);
    if (!window || now - window.start >= RATE_WINDOW_MS) {
      if (this.windows.size >= PRUNE_AT) this.prune(now);
      window = { start: now, spent: 0 };
      this.windows.set(key, window);
    }
    const allowed = window.spent + points <= limit;
    if (allowed) window.spent += points;
    return { allowed, spent: window.spent, resetMs: window.start + RATE_WINDOW_MS - now };
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= RATE_WINDOW_MS) this.windows.delete(key);
  }
}
