/**
 * `reverb apps:*`: the apps table of the database provider (docs/apps.md).
 * Every value is checked by the configuration's own schema before it is
 * written; credentials are printed once, to stdout, and never logged; with
 * scaling on, every server is told of the change over Redis at once.
 */
import { randomInt } from 'node:crypto';
import type { AppAdmin } from '../apps/database/admin.js';
import { SETTING_COLUMNS, columnNamed, rowToRawApp, toColumnValue, type AppRow } from '../apps/database/columns.js';
import { openAppStore } from '../apps/database/open-store.js';
import type { AppStore } from '../apps/store.js';
import { publishAppChanged } from '../cluster/app-invalidation.js';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { parseApp } from '../config/schema.js';
import { randomToken } from '../ops/env-entries.js';

export interface AppsFlags {
  config?: string;
  envFile?: string;
  json?: boolean;
}

/** The settings an app is created or updated with. */
export interface AppSettingFlags extends AppsFlags {
  set?: string[];
  allowedOrigins?: string;
  maxConnections?: string;
  webhooks?: string;
  key?: string;
}

export interface CreateFlags extends AppSettingFlags {
  id?: string;
  secret?: string;
  disabled?: boolean;
}

type DatabaseProvider = Extract<Config['appProvider'], { kind: 'database' }>;

interface Session {
  readonly config: Config;
  readonly provider: DatabaseProvider;
  readonly store: AppStore & AppAdmin;
}

/** A request the command turns down (the database answered). */
class Refused extends Error {}

/** Reverb's installer: a six-digit id, a 20-character key and secret. */
const newId = () => String(randomInt(100_000, 1_000_000));
const newToken = () => randomToken(20);

async function withStore<T>(flags: AppsFlags, work: (session: Session) => Promise<T>): Promise<T> {
  const config = await loadConfig({ configFile: flags.config, envFile: flags.envFile });
  const provider = config.appProvider;
  if (provider.kind !== 'database') {
    throw new Error(
      'The apps:* commands manage the apps table of the database app provider, and this configuration uses the config provider (apps.provider = "config"). Set REVERB_APP_PROVIDER=database in .env, or apps.provider in config/reverb.php or reverb.config.*; see docs/apps.md.',
    );
  }
  const store = await openAppStore(provider.database, provider.table);
  try {
    return await work({ config, provider, store });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof Refused) throw error;
    throw new Error(`Cannot use the apps table ${provider.table}: ${(error as Error).message}`);
  } finally {
    await store.close();
  }
}

/** The settings given as options, by column name, as text. */
function settingsOf(flags: AppSettingFlags): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const assignment of flags.set ?? []) {
    const at = assignment.indexOf('=');
    const name = at < 0 ? assignment : assignment.slice(0, at);
    if (at < 0 || !columnNamed(name) || ['id', 'key', 'secret'].includes(name)) {
      const hint = ['id', 'key', 'secret'].includes(name) ? ` (${name === 'secret' ? 'apps:rotate-secret' : `--${name}`} sets it)` : '';
      throw new Refused(
        `Invalid --set ${JSON.stringify(assignment)}${hint}: expected column=value with a column among ${SETTING_COLUMNS.map((column) => column.name).join(', ')}`,
      );
    }
    settings[name] = assignment.slice(at + 1);
  }
  if (flags.allowedOrigins !== undefined) settings.allowed_origins = flags.allowedOrigins;
  if (flags.maxConnections !== undefined) settings.max_connections = flags.maxConnections;
  if (flags.webhooks !== undefined) settings.webhooks = flags.webhooks;
  return settings;
}

/** A schema message in the table's column names (`rate_limiting.enabled` is the column rate_limiting_enabled). */
function inColumnNames(message: string, table: string): string {
  return message
    .replace(/^Invalid configuration: /, 'Invalid app: ')
    .replace(new RegExp(`\\b${table}\\.(rate_limiting|webhook_batching)\\.`), `${table}.$1_`)
    .replace(`${table}.app_id`, `${table}.id`);
}

/**
 * Checks the app a row would be (its stored values and `settings` as given)
 * with the configuration's schema, and returns `settings` as column values.
 */
function validated(table: string, stored: AppRow, settings: Record<string, string>): AppRow {
  try {
    parseApp(rowToRawApp({ ...stored, ...settings }), table);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(inColumnNames(error.message, table));
    throw error;
  }
  return Object.fromEntries(Object.entries(settings).map(([name, text]) => [name, toColumnValue(columnNamed(name)!, text)]));
}

/** With scaling on, every server forgets the app at once; otherwise says when they see the change. */
async function announce(session: Session, id: string, flags: AppsFlags): Promise<void> {
  const scaling = session.config.server.scaling;
  const say = (line: string) => (flags.json ? console.error(line) : console.log(line));
  if (!scaling.enabled) {
    say(`Running servers see the change within ${session.provider.cacheTtl} s (apps.database.cache_ttl); with scaling on they are told at once.`);
    return;
  }
  try {
    const servers = await publishAppChanged(scaling, id);
    say(`Told ${servers} server${servers === 1 ? '' : 's'} over Redis (channel "${scaling.channel}").`);
  } catch (error) {
    console.error(
      `The change is saved, but Redis cannot be reached (${(error as Error).message}): running servers see it within ${session.provider.cacheTtl} s (apps.database.cache_ttl).`,
    );
  }
}

async function existing(store: AppAdmin, id: string): Promise<AppRow> {
  const row = await store.row(id);
  if (!row) throw new Refused(`No app with id ${JSON.stringify(id)} in the apps table.`);
  return row;
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  for (const row of rows) console.log(row.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd());
}

function printCredentials(credentials: { app_id: string; key: string; secret: string }, flags: AppsFlags, heading: string): void {
  if (flags.json) {
    console.log(JSON.stringify(credentials));
    return;
  }
  console.log(`${heading} The secret is shown this once: keep it now.`);
  printTable(Object.entries(credentials).map(([name, value]) => [`  ${name}`, value]));
}

/** A row's columns that have a value, without the secret; booleans as true/false on either database. */
function shown(row: AppRow): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row)
      .filter(([name, value]) => name !== 'secret' && value !== null && value !== undefined)
      .map(([name, value]) => [name, columnNamed(name)?.kind === 'boolean' ? isTrue(value) : value]),
  );
}

const isTrue = (value: unknown) => ['1', 'true', 't'].includes(String(value));

export function runAppsList(flags: AppsFlags): Promise<void> {
  return withStore(flags, async ({ store }) => {
    const rows = await store.rows();
    if (flags.json) {
      console.log(JSON.stringify(rows.map(shown)));
      return;
    }
    if (rows.length === 0) {
      console.log('No apps in the apps table: reverb apps:create adds one.');
      return;
    }
    const cell = (value: unknown) => (value === null || value === undefined ? '-' : value instanceof Date ? value.toISOString() : String(value));
    const enabled = (row: AppRow) => String(row.enabled === null || row.enabled === undefined || isTrue(row.enabled));
    printTable([
      ['ID', 'KEY', 'ENABLED', 'ALLOWED ORIGINS', 'MAX CONNECTIONS', 'UPDATED'],
      ...rows.map((row) => [cell(row.id), cell(row.key), enabled(row), cell(row.allowed_origins ?? '["*"]'), cell(row.max_connections), cell(row.updated_at)]),
    ]);
  });
}

export function runAppsCreate(flags: CreateFlags): Promise<void> {
  return withStore(flags, async (session) => {
    const { store, provider } = session;
    let id = flags.id;
    if (id !== undefined) {
      if (await store.row(id)) throw new Refused(`An app with id ${JSON.stringify(id)} already exists.`);
    } else {
      do id = newId();
      while (await store.row(id));
    }
    const key = flags.key ?? newToken();
    if ((await store.findByKeys([key])).length > 0) throw new Refused(`An app with key ${JSON.stringify(key)} already exists.`);
    const credentials = { app_id: id, key, secret: flags.secret ?? newToken() };
    const settings = { ...settingsOf(flags), ...(flags.disabled ? { enabled: 'false' } : {}) };
    const values = validated(provider.table, { id, key, secret: credentials.secret }, settings);
    await store.create({ id, key, secret: credentials.secret, ...values });
    printCredentials(credentials, flags, `App ${id} created.`);
    await announce(session, id, flags);
  });
}

export function runAppsUpdate(id: string, flags: AppSettingFlags): Promise<void> {
  return withStore(flags, async (session) => {
    const { store, provider } = session;
    const stored = await existing(store, id);
    const settings = settingsOf(flags);
    const changes: AppRow = validated(provider.table, stored, settings);
    if (flags.key !== undefined && flags.key !== stored.key) {
      if ((await store.findByKeys([flags.key])).length > 0) throw new Refused(`An app with key ${JSON.stringify(flags.key)} already exists.`);
      validated(provider.table, { ...stored, key: flags.key }, settings);
      changes.key = flags.key;
    }
    const names = Object.keys(changes);
    if (names.length === 0) throw new Refused('Nothing to update: give --set column=value (or --allowed-origins, --max-connections, --webhooks, --key).');
    await store.update(id, changes);
    if (flags.json) console.log(JSON.stringify({ app_id: id, updated: names }));
    else console.log(`App ${id} updated: ${names.join(', ')}.`);
    await announce(session, id, flags);
  });
}

export function runAppsRotateSecret(id: string, flags: AppsFlags): Promise<void> {
  return withStore(flags, async (session) => {
    const stored = await existing(session.store, id);
    const secret = newToken();
    await session.store.rotateSecret(id, secret);
    printCredentials({ app_id: id, key: String(stored.key), secret }, flags, `App ${id} has a new secret; the old one stops working as soon as the servers see the change.`);
    await announce(session, id, flags);
  });
}

function setEnabled(enabled: boolean) {
  return (id: string, flags: AppsFlags): Promise<void> =>
    withStore(flags, async (session) => {
      await existing(session.store, id);
      await session.store.setEnabled(id, enabled);
      const state = enabled ? 'enabled' : 'disabled: new connections are refused and open ones closed';
      if (flags.json) console.log(JSON.stringify({ app_id: id, enabled }));
      else console.log(`App ${id} ${state}.`);
      await announce(session, id, flags);
    });
}

export const runAppsEnable = setEnabled(true);
export const runAppsDisable = setEnabled(false);

export function runAppsDelete(id: string, flags: AppsFlags): Promise<void> {
  return withStore(flags, async (session) => {
    if (!(await session.store.delete(id))) throw new Refused(`No app with id ${JSON.stringify(id)} in the apps table.`);
    if (flags.json) console.log(JSON.stringify({ app_id: id, deleted: true }));
    else console.log(`App ${id} deleted: its open connections are closed.`);
    await announce(session, id, flags);
  });
}
