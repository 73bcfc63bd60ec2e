/**
 * A database of a test's own on the machine's MariaDB (127.0.0.1:3306, root)
 * or PostgreSQL (127.0.0.1:5432, postgres), holding the apps table made from
 * the documented SQL (docs/sql), so that the SQL cannot rot.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { AppRow } from '../../src/apps/database/columns.js';
import type { SqlConnectionConfig } from '../../src/config/laravel/database-connection.js';

export const SQL_DIR = resolve(import.meta.dirname, '../../docs/sql');

export interface AppsDatabase {
  readonly driver: 'mysql' | 'pgsql';
  /** The database server's own port. */
  readonly port: number;
  /** The Laravel .env variables for it; `port`: another way in (a proxy). */
  env(port?: number): Record<string, string>;
  /** The connection settings of config.appProvider.database for it. */
  readonly connection: SqlConnectionConfig;
  /** Runs one statement with `?` placeholders and "quoted" names, on either database. */
  query(sql: string, params?: unknown[]): Promise<void>;
  /** The apps table's rows, by id. */
  rows(): Promise<AppRow[]>;
  /** Ends every connection to it but the helper's own (a database restart, as a server sees it). */
  dropConnections(): Promise<void>;
  drop(): Promise<void>;
}

const databaseName = (engine: string) => `apps_${engine}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

function laravelEnv(connection: string, name: string, port: number, username: string): Record<string, string> {
  return { DB_CONNECTION: connection, DB_HOST: '127.0.0.1', DB_PORT: String(port), DB_DATABASE: name, DB_USERNAME: username, DB_PASSWORD: '' };
}

function connectionOf(driver: 'mysql' | 'pgsql', name: string, port: number, username: string): SqlConnectionConfig {
  return { driver, url: null, host: '127.0.0.1', port, database: name, username, password: '', prefix: '' };
}

const sqlFile = (driver: 'mysql' | 'pgsql') => readFileSync(join(SQL_DIR, `reverb_apps.${driver}.sql`), 'utf8');

async function mariadb(): Promise<AppsDatabase> {
  const name = databaseName('mariadb');
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
  await admin.query(`create database ${name}`);
  await admin.query(`use ${name}`);
  await admin.query(sqlFile('mysql'));
  return {
    driver: 'mysql',
    port: 3306,
    env: (port = 3306) => laravelEnv('mariadb', name, port, 'root'),
    connection: connectionOf('mysql', name, 3306, 'root'),
    query: async (sql, params = []) => void (await admin.query(sql.replaceAll('"', '`'), params)),
    rows: async () => (await admin.query('select * from reverb_apps order by id'))[0] as AppRow[],
    dropConnections: async () => {
      const [rows] = await admin.query('select id from information_schema.processlist where db = ? and id <> connection_id()', [name]);
      for (const { id } of rows as { id: number }[]) await admin.query(`kill ${Number(id)}`).catch(() => undefined);
    },
    drop: async () => {
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    },
  };
}

async function postgresql(): Promise<AppsDatabase> {
  const name = databaseName('pgsql');
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: name });
  await client.connect();
  await client.query(sqlFile('pgsql'));
  const own = (client as unknown as { processID: number }).processID;
  return {
    driver: 'pgsql',
    port: 5432,
    env: (port = 5432) => laravelEnv('pgsql', name, port, 'postgres'),
    connection: connectionOf('pgsql', name, 5432, 'postgres'),
    query: async (sql, params = []) => {
      let n = 0;
      await client.query(sql.replace(/\?/g, () => `$${++n}`), params);
    },
    rows: async () => (await client.query('select * from reverb_apps order by id')).rows,
    dropConnections: async () => {
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> $2', [name, own]);
    },
    // WITH (FORCE) ends the servers' connections too.
    drop: async () => {
      await client.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export const APPS_ENGINES = [
  ['MariaDB', mariadb],
  ['PostgreSQL', postgresql],
] as const;
