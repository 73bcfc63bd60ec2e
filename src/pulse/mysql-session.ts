/** Pulse's tables on MySQL/MariaDB through mysql2: key_hash is `binary(16)`, unhex(md5(key)). */
import { createHash } from 'node:crypto';
import { SQL_DIALECTS, mysqlOptions, type SqlConnectionConfig } from '../config/laravel/database-connection.js';
import type { SqlSession } from './storage.js';

/** `timeoutMs` bounds every query. */
export async function openMysqlSession(database: SqlConnectionConfig, timeoutMs: number): Promise<SqlSession> {
  const mysql = await import('mysql2/promise');
  const connection = await mysql.createConnection(mysqlOptions(database));
  // A dropped connection emits 'error'; the next write opens a new one instead of crashing the server.
  connection.on('error', () => undefined);
  const query = (sql: string, params: readonly unknown[] = []) => connection.query({ sql, timeout: timeoutMs }, [...params]);
  return {
    ...SQL_DIALECTS.mysql,
    // Laravel's MySQL grammar without `use_upsert_alias`, which MariaDB lacks.
    addValueOnConflict: () => 'on duplicate key update `value` = `value` + values(`value`)',
    generatedKeyHash: async (table) => {
      const [rows] = await query(
        "select generation_expression as expression from information_schema.columns where table_schema = database() and table_name = ? and column_name = 'key_hash'",
        [table],
      );
      const column = (rows as { expression: string | null }[])[0];
      if (!column) throw new Error(`table ${table} with a key_hash column not found (run Pulse's migrations)`);
      return Boolean(column.expression);
    },
    keyHash: (key) => createHash('md5').update(key).digest(),
    transaction: async (statements) => {
      await query('start transaction');
      try {
        for (const statement of statements) await query(statement.sql, statement.params);
        await query('commit');
      } catch (error) {
        await query('rollback').catch(() => undefined);
        throw error;
      }
    },
    close: () => connection.end().catch(() => undefined),
  };
}
