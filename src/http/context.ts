/** What every HTTP API handler gets: the resolved app and the request pieces. */
import type { PusherServer } from '../protocol/server.js';
import type { AppRuntime } from '../protocol/app.js';

export interface ApiContext {
  readonly server: PusherServer;
  readonly app: AppRuntime;
  readonly params: ReadonlyMap<string, string>;
  readonly body: Buffer;
  /** Decoded route parameters (channel name, user id). */
  readonly route: Readonly<Record<string, string>>;
  /** Spends the app's `max_backend_events_per_second` points (one per channel of each event); throws a 429 beyond it. */
  readonly spendEventPoints: (points: number) => Promise<void>;
}
