/**
 * What the apps table needs of a database: parameterised queries, each bound
 * in time, over a pool that survives a dropped connection (the next query
 * connects again) — the same for mysql2 and pg.
 */
import type { SqlDialect } from '../../config/laravel/database-connection.js';
import type { AppRow } from './columns.js';

export interface SqlClient extends SqlDialect {
  /** The rows a select returns. */
  select(sql: string, params?: readonly unknown[]): Promise<AppRow[]>;
  /** How many rows a statement matched. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  close(): Promise<void>;
}

/** Connecting to, and any one query on, a database that does not answer fails after this long. */
export const SQL_TIMEOUT_MS = 2000;

/**
 * `work`, or a rejection once `timeoutMs` has passed (plus a little: the
 * drivers' own timeouts, set to `timeoutMs`, usually answer first with their
 * clearer message).
 */
export function bounded<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from the database after ${timeoutMs + 500} ms`)), timeoutMs + 500);
  });
  work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Error codes of a connection that was open and is not any more (the database restarted, an idle connection was cut). */
const DROPPED = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', '57P01', '57P02']);

/**
 * Runs `query`, and once more when it failed because the pooled connection
 * it was given had dropped (the pool has thrown that one away by then): a
 * database restart costs no failed lookup. Within one time bound.
 */
export function retriedIfDropped<T>(query: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const attempt = query().catch((error: unknown) => {
    const { code, message } = error as { code?: string; message?: string };
    if (DROPPED.has(String(code)) || /Connection terminated/.test(String(message))) return query();
    throw error;
  });
  return bounded(attempt, timeoutMs, what);
}
