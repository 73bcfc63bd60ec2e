/**
 * Laravel's database cache store: the `cache` table's row whose `key` is the
 * prefixed key; its `expiration` (Unix time) passed means missing, as in
 * DatabaseStore::get. MySQL/MariaDB through mysql2, PostgreSQL through pg,
 * each a single connection that reconnects on the next read after a failure;
 * SQLite through PHP's PDO (sqlite-store.ts).
 */
import type { DatabaseStoreConfig } from '../../config/laravel/cache-store.js';
import { mysqlOptions, pgOptions } from '../../config/laravel/database-connection.js';
import type { CacheReader } from './reader.js';

export interface Row {
  value: string | Buffer;
  expiration: number | string;
}

export function current(row: Row | undefined, now: number): string | null {
  if (!row || Math.floor(now / 1000) >= Number(row.expiration)) return null;
  return Buffer.isBuffer(row.value) ? row.value.toString('latin1') : row.value;
}

type Query = (table: string, key: string) => Promise<Row | undefined>;

async function mysqlQuery(store: DatabaseStoreConfig): Promise<{ query: Query; close: () => Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection(mysqlOptions(store));
  return {
    query: async (table, key) => {
      const [rows] = await connection.query(`SELECT \`value\`, \`expiration\` FROM \`${table.replaceAll('`', '``')}\` WHERE \`key\` = ? LIMIT 1`, [key]);
      return (rows as Row[])[0];
    },
    close: () => connection.end(),
  };
}

async function pgQuery(store: DatabaseStoreConfig): Promise<{ query: Query; close: () => Promise<void> }> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(pgOptions(store));
  await client.connect();
  // A dropped connection emits 'error'; the next read reconnects instead of crashing the server.
  client.on('error', () => undefined);
  return {
    query: async (table, key) => {
      const result = await client.query<Row>(`SELECT "value", "expiration" FROM "${table.replaceAll('"', '""')}" WHERE "key" = $1 LIMIT 1`, [key]);
      return result.rows[0];
    },
    close: () => client.end(),
  };
}

export async function openDatabaseStore(store: DatabaseStoreConfig): Promise<CacheReader> {
  const connect = store.driver === 'mysql' ? mysqlQuery : pgQuery;
  let connection = await connect(store);
  let broken = false;
  return {
    read: async () => {
      if (broken) {
        connection = await connect(store);
        broken = false;
      }
      try {
        return current(await connection.query(store.table, store.key), Date.now());
      } catch (error) {
        broken = true;
        await connection.close().catch(() => undefined);
        throw error;
      }
    },
    close: () => connection.close().catch(() => undefined),
  };
}
