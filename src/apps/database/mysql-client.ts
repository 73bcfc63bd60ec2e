/** The apps table on MySQL/MariaDB through a mysql2 pool. */
import { SQL_DIALECTS, mysqlOptions, type SqlConnectionConfig } from '../../config/laravel/database-connection.js';
import type { AppRow } from './columns.js';
import { retriedIfDropped, type SqlClient } from './sql-client.js';

export async function openMysqlClient(database: SqlConnectionConfig, timeoutMs: number): Promise<SqlClient> {
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({
    ...mysqlOptions(database),
    connectTimeout: timeoutMs,
    connectionLimit: 4,
    maxIdle: 1,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    // Laravel writes its timestamps in UTC (the default app timezone); so do the admin commands.
    timezone: 'Z',
  });
  // A connection that drops is taken out of the pool; the next query opens a new one.
  pool.on('connection', (connection) => connection.on('error', () => undefined));
  const run = (sql: string, params: readonly unknown[]) =>
    retriedIfDropped(() => pool.query({ sql, timeout: timeoutMs }, [...params]), timeoutMs, 'MySQL query');
  return {
    ...SQL_DIALECTS.mysql,
    select: async (sql, params = []) => (await run(sql, params))[0] as AppRow[],
    execute: async (sql, params = []) => ((await run(sql, params))[0] as { affectedRows: number }).affectedRows,
    close: () => pool.end().catch(() => undefined),
  };
}
