/**
 * Pulse's DatabaseStorage::upsertCount() for the rows of one write: insert
 * each (bucket, period, type, aggregate, key) row, or add its value to the
 * row already there — the unique index is on key_hash, not key — in one
 * transaction, 1000 rows per statement (Pulse's default `chunk`).
 */
import type { SqlConnectionConfig, SqlDialect } from '../config/laravel/database-connection.js';
import { aggregateCounts, type AggregateRow } from './aggregate.js';
import type { Tally } from './counts.js';
import type { PulseSink } from './sink.js';
import { openMysqlSession } from './mysql-session.js';
import { openPgsqlSession } from './pgsql-session.js';

export interface Statement {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** What differs between MySQL/MariaDB and PostgreSQL. */
export interface SqlSession extends SqlDialect {
  /** `on duplicate key update` / `on conflict … do update`, adding the new value to the stored one. */
  addValueOnConflict(table: string): string;
  /**
   * Whether `key_hash` is computed by the database (Pulse's migration makes it
   * a generated column); false when Pulse's storage has to write it. Fails
   * when the table does not exist.
   */
  generatedKeyHash(table: string): Promise<boolean>;
  /** The md5 of a key as the key_hash column stores it. */
  keyHash(key: string): unknown;
  transaction(statements: readonly Statement[]): Promise<void>;
  close(): Promise<void>;
}

export interface PulseStorage {
  store(rows: readonly AggregateRow[]): Promise<void>;
  close(): Promise<void>;
}

const CHUNK = 1000;
/** A write that hangs (an unreachable database that does not refuse) ends after this long and counts as failed. */
const QUERY_TIMEOUT_MS = 10_000;
const COLUMNS = ['bucket', 'period', 'type', 'aggregate', 'key', 'value'] as const;

function upsert(session: SqlSession, table: string, rows: readonly AggregateRow[], writeKeyHash: boolean): Statement {
  const columns = [...COLUMNS, ...(writeKeyHash ? ['key_hash'] : [])];
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const values = [row.bucket, row.period, row.type, row.aggregate, row.key, row.value, ...(writeKeyHash ? [session.keyHash(row.key)] : [])];
    params.push(...values);
    return `(${values.map((_, index) => session.placeholder(params.length - values.length + index + 1)).join(', ')})`;
  });
  const sql = `insert into ${session.quote(table)} (${columns.map((column) => session.quote(column)).join(', ')}) values ${tuples.join(', ')} ${session.addValueOnConflict(table)}`;
  return { sql, params };
}

export async function openPulseStorage(database: SqlConnectionConfig): Promise<PulseStorage> {
  const session = await (database.driver === 'mysql' ? openMysqlSession : openPgsqlSession)(database, QUERY_TIMEOUT_MS);
  const table = `${database.prefix}pulse_aggregates`;
  try {
    const writeKeyHash = !(await session.generatedKeyHash(table));
    return {
      store: (rows) => {
        const statements: Statement[] = [];
        for (let start = 0; start < rows.length; start += CHUNK) statements.push(upsert(session, table, rows.slice(start, start + CHUNK), writeKeyHash));
        return session.transaction(statements);
      },
      close: () => session.close(),
    };
  } catch (error) {
    await session.close();
    throw error;
  }
}

/** The counts upserted into pulse_aggregates as Pulse's DatabaseStorage does; the connection is opened at the first write, and again after a failed one. */
export class PulseTables implements PulseSink {
  readonly peer = 'the database';
  private storage: PulseStorage | undefined;

  constructor(private readonly database: SqlConnectionConfig) {}

  describe(): string {
    const { driver, url, host, port, database, prefix } = this.database;
    // A URL is shown without its credentials.
    const where = url ? url.replace(/\/\/[^@/]*@/, '//') : `${host}:${port}/${database}`;
    return `${driver === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL'} ${where}, table ${prefix}pulse_aggregates`;
  }

  async write(tallies: readonly Tally[], now: number): Promise<void> {
    try {
      this.storage ??= await openPulseStorage(this.database);
      await this.storage.store(aggregateCounts(tallies, now));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.storage?.close();
    this.storage = undefined;
  }
}
