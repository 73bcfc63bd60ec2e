/**
 * Per-app HTTP API rate limits (soketi's `max_backend_events_per_second` and
 * `max_read_requests_per_second`): 1-second windows counted by the cluster,
 * so that with scaling on an app has one budget whichever server a request
 * reaches (src/protocol/rate-windows.ts, the Redis cluster's RATE_SPEND).
 */
import type { AppRuntime } from '../protocol/app.js';
import type { LimitName } from '../protocol/observer.js';
import { LimitExceeded } from './responses.js';

export class RateLimiter {
  constructor(
    /** The config key, named in the refusal. */
    private readonly setting: LimitName,
    private readonly limitOf: (app: AppRuntime) => number | null,
  ) {}

  /**
   * Spends `points` of the app's window or throws a 429; a refused
   * request spends nothing, so it does not push the app's other requests out.
   */
  async spend(app: AppRuntime, points: number): Promise<void> {
    const limit = this.limitOf(app);
    if (limit === null) return;
    const window = await app.server.cluster.spendRate(app.id, this.setting, points, limit);
    if (window.allowed) return;
    const remaining = Math.max(0, limit - window.spent);
    // 429 with the headers soketi sends, so clients can back off.
    throw new LimitExceeded(this.setting, `Too many requests: over ${this.setting} (${limit} per second; this request needs ${points}, ${remaining} left).`, 429, {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': String(remaining),
      'Retry-After': String(Math.max(1, Math.ceil(window.resetMs / 1000))),
    });
  }
}
