/** Pulse's tables on PostgreSQL through pg: key_hash is a uuid, md5(key)::uuid. */
import { createHash } from 'node:crypto';
import { SQL_DIALECTS, pgOptions, type SqlConnectionConfig } from '../config/laravel/database-connection.js';
import type { SqlSession } from './storage.js';

const { quote } = SQL_DIALECTS.pgsql;

/** `timeoutMs` bounds every query. */
export async function openPgsqlSession(database: SqlConnectionConfig, timeoutMs: number): Promise<SqlSession> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ ...pgOptions(database), query_timeout: timeoutMs });
  // A dropped connection emits 'error'; the next write opens a new one instead of crashing the server.
  client.on('error', () => undefined);
  await client.connect();
  return {
    ...SQL_DIALECTS.pgsql,
    addValueOnConflict: (table) =>
      `on conflict ("bucket", "period", "type", "aggregate", "key_hash") do update set "value" = ${quote(table)}."value" + "excluded"."value"`,
    generatedKeyHash: async (table) => {
      const result = await client.query<{ is_generated: string }>(
        "select is_generated from information_schema.columns where table_schema = current_schema() and table_name = $1 and column_name = 'key_hash'",
        [table],
      );
      const column = result.rows[0];
      if (!column) throw new Error(`table ${table} with a key_hash column not found (run Pulse's migrations)`);
      return column.is_generated === 'ALWAYS';
    },
    // 32 hex digits are a valid uuid literal: the same value as md5("key")::uuid.
    keyHash: (key) => createHash('md5').update(key).digest('hex'),
    transaction: async (statements) => {
      await client.query('begin');
      try {
        for (const statement of statements) await client.query(statement.sql, [...statement.params]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      }
    },
    close: () => client.end().catch(() => undefined),
  };
}
