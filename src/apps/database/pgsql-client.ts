/** The apps table on PostgreSQL through a pg pool. */
import { SQL_DIALECTS, pgOptions, type SqlConnectionConfig } from '../../config/laravel/database-connection.js';
import { retriedIfDropped, type SqlClient } from './sql-client.js';

export async function openPgsqlClient(database: SqlConnectionConfig, timeoutMs: number): Promise<SqlClient> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ ...pgOptions(database), connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, max: 4, idleTimeoutMillis: 60_000 });
  // An idle client whose connection drops is reported here and removed; the next query connects again.
  pool.on('error', () => undefined);
  const run = (sql: string, params: readonly unknown[]) => retriedIfDropped(() => pool.query(sql, [...params]), timeoutMs, 'PostgreSQL query');
  return {
    ...SQL_DIALECTS.pgsql,
    select: async (sql, params = []) => (await run(sql, params)).rows,
    execute: async (sql, params = []) => (await run(sql, params)).rowCount ?? 0,
    close: () => pool.end().catch(() => undefined),
  };
}
