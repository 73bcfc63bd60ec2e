/** The database app provider's store: the apps table on the Laravel connection's MySQL/MariaDB or PostgreSQL. */
import type { SqlConnectionConfig } from '../../config/laravel/database-connection.js';
import type { AppStore } from '../store.js';
import type { AppAdmin } from './admin.js';
import { openMysqlClient } from './mysql-client.js';
import { openPgsqlClient } from './pgsql-client.js';
import { SQL_TIMEOUT_MS } from './sql-client.js';
import { tableStore } from './table-store.js';

export type { AppAdmin } from './admin.js';

/**
 * `table` is the full name (the connection's prefix included, as
 * config.appProvider.table has it). Nothing is queried yet: an unreachable
 * database fails the first query, within about SQL_TIMEOUT_MS.
 */
export async function openAppStore(connection: SqlConnectionConfig, table: string, timeoutMs = SQL_TIMEOUT_MS): Promise<AppStore & AppAdmin> {
  const client = await (connection.driver === 'mysql' ? openMysqlClient : openPgsqlClient)(connection, timeoutMs);
  return tableStore(client, table);
}
