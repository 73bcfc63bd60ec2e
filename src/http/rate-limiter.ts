/**
 * Per-app HTTP API rate limits in 1-second fixed windows (soketi's
 * `max_backend_events_per_second` and `max_read_requests_per_second`). No
 * timers: a window is renewed by the first request after it ended. Memory is
 * one small record per app, held weakly so a removed app takes its own along.
 */
import type { AppRuntime } from '../protocol/app.js';
import type { LimitName } from '../protocol/observer.js';
import { LimitExceeded } from './responses.js';

const WINDOW_MS = 1000;

/** Points spent in the current window of one app. */
interface Window {
  start: number;
  spent: number;
}

export class RateLimiter {
  private readonly windows = new WeakMap<AppRuntime, Window>();

  constructor(
    /** The config key, named in the refusal. */
    private readonly setting: LimitName,
    private readonly limitOf: (app: AppRuntime) => number | null,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Spends `points` of the app's window or throws a 429; a refused
   * request spends nothing, so it does not push the app's other requests out.
   */
  spend(app: AppRuntime, points: number): void {
    const limit = this.limitOf(app);
    if (limit === null) return;
    const now = this.now();
    let window = this.windows.get(app);
    if (!window || now - window.start >= WINDOW_MS) {
      window = { start: now, spent: 0 };
      this.windows.set(app, window);
    }
    if (window.spent + points <= limit) {
      window.spent += points;
      return;
    }
    const remaining = limit - window.spent;
    // 429 with the headers soketi sends, so clients can back off.
    throw new LimitExceeded(this.setting, `Too many requests: over ${this.setting} (${limit} per second; this request needs ${points}, ${remaining} left).`, 429, {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(remaining),
      'Retry-After': String(Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000))),
    });
  }
}
