/**
 * A database of its own for the database app provider (docs/sql): created on
 * the local MariaDB (127.0.0.1:3306, root) or PostgreSQL (127.0.0.1:5432,
 * postgres), the apps table made from the documented SQL file as it is,
 * rows inserted directly, dropped again by drop(). Loopback only.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';

const SQL_DIR = resolve(import.meta.dirname, '../../docs/sql');

const uniqueName = (engine) => `bench_apps_${engine}_${process.pid}_${Date.now()}`;

/** { env (the Laravel DB_* variables), version, insert(apps), drop() } on MariaDB/MySQL. */
async function mariadb() {
  const name = uniqueName('mariadb');
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: true });
  try {
    await admin.query(`create database ${name}`);
    await admin.query(`use ${name}`);
    await admin.query(readFileSync(resolve(SQL_DIR, 'reverb_apps.mysql.sql'), 'utf8'));
  } catch (error) {
    await admin.query(`drop database if exists ${name}`).catch(() => undefined);
    await admin.end();
    throw error;
  }
  const [[{ version }]] = await admin.query('select version() as version');
  return {
    engine: 'mariadb',
    version: `MariaDB/MySQL ${version}`,
    env: { DB_CONNECTION: 'mariadb', DB_HOST: '127.0.0.1', DB_PORT: '3306', DB_DATABASE: name, DB_USERNAME: 'root', DB_PASSWORD: '' },
    insert: async (apps) => {
      for (let k = 0; k < apps.length; k += 1000) {
        const rows = apps.slice(k, k + 1000).map((app) => [app.appId, app.key, app.secret]);
        await admin.query('insert into reverb_apps (`id`, `key`, `secret`) values ?', [rows]);
      }
    },
    drop: async () => {
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    },
  };
}

/** The same on PostgreSQL. */
async function postgresql() {
  const name = uniqueName('pgsql');
  const connection = (database) => ({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
  const admin = new pg.Client(connection('postgres'));
  await admin.connect();
  await admin.query(`create database ${name}`);
  const client = new pg.Client(connection(name));
  try {
    await client.connect();
    await client.query(readFileSync(resolve(SQL_DIR, 'reverb_apps.pgsql.sql'), 'utf8'));
  } catch (error) {
    await client.end().catch(() => undefined);
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
    throw error;
  }
  const { rows } = await client.query('show server_version');
  return {
    engine: 'pgsql',
    version: `PostgreSQL ${rows[0].server_version}`,
    env: { DB_CONNECTION: 'pgsql', DB_HOST: '127.0.0.1', DB_PORT: '5432', DB_DATABASE: name, DB_USERNAME: 'postgres', DB_PASSWORD: '' },
    insert: async (apps) => {
      const column = (field) => apps.map((app) => app[field]);
      await client.query('insert into reverb_apps (id, key, secret) select * from unnest($1::text[], $2::text[], $3::text[])', [
        column('appId'),
        column('key'),
        column('secret'),
      ]);
    },
    drop: async () => {
      await client.end();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export const APPS_DATABASES = { mariadb, pgsql: postgresql };
