/**
 * One of a Laravel project's database connections (config('database')),
 * resolved the way Laravel's DatabaseManager does, and its settings in the
 * shape of the Node drivers (mysql2 for MySQL/MariaDB, pg for PostgreSQL).
 * Shared by everything that talks to the project's database: the restart
 * signal in a database cache store and Laravel Pulse's tables.
 */
export interface SqlConnectionConfig {
  readonly driver: 'mysql' | 'pgsql';
  readonly url: string | null;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  /** Laravel's table prefix of the connection. */
  readonly prefix: string;
}

export type DatabaseConnection =
  | SqlConnectionConfig
  | { readonly driver: 'sqlite'; readonly file: string; readonly prefix: string }
  /** A driver reverb-ts has no client for; `reason` reads "database connection "x" uses the y driver". */
  | { readonly driver: 'unsupported'; readonly reason: string };

type Section = Record<string, unknown>;

function section(value: unknown): Section {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Section) : {};
}

function text(value: unknown, fallback = ''): string {
  return value === null || value === undefined || value === '' ? fallback : String(value);
}

const DRIVERS: Readonly<Record<string, SqlConnectionConfig['driver'] | 'sqlite'>> = { mysql: 'mysql', mariadb: 'mysql', pgsql: 'pgsql', sqlite: 'sqlite' };

/** The connection `name` of config('database') (`databaseSection`); null or '' = its default. */
export function resolveDatabaseConnection(databaseSection: unknown, name: string | null): DatabaseConnection {
  const database = section(databaseSection);
  const connectionName = text(name, text(database.default, 'mysql'));
  const connection = section(section(database.connections)[connectionName]);
  const driver = DRIVERS[text(connection.driver)];
  if (!driver) return { driver: 'unsupported', reason: `database connection "${connectionName}" uses the ${text(connection.driver, 'unknown')} driver` };
  const prefix = text(connection.prefix);
  if (driver === 'sqlite') return { driver, file: text(connection.database), prefix };
  return {
    driver,
    url: text(connection.url) || null,
    host: text(connection.host, '127.0.0.1'),
    port: Number(text(connection.port, driver === 'pgsql' ? '5432' : '3306')),
    database: text(connection.database),
    username: text(connection.username, 'root'),
    password: text(connection.password),
    prefix,
  };
}

type Settings = Omit<SqlConnectionConfig, 'driver' | 'prefix'>;

/** How a driver quotes names and marks parameters: what SQL built for both databases needs. */
export interface SqlDialect {
  /** Quotes a table or column name. */
  quote(name: string): string;
  /** The parameter marker of the n-th (1-based) value. */
  placeholder(n: number): string;
}

export const SQL_DIALECTS: Readonly<Record<SqlConnectionConfig['driver'], SqlDialect>> = {
  mysql: { quote: (name) => `\`${name.replaceAll('`', '``')}\``, placeholder: () => '?' },
  pgsql: { quote: (name) => `"${name.replaceAll('"', '""')}"`, placeholder: (n) => `$${n}` },
};

const CONNECT_TIMEOUT_MS = 5000;

/** mysql2's connection options. */
export function mysqlOptions(settings: Settings) {
  const where = settings.url
    ? { uri: settings.url }
    : { host: settings.host, port: settings.port, user: settings.username, password: settings.password, database: settings.database };
  return { ...where, connectTimeout: CONNECT_TIMEOUT_MS };
}

/** pg's client options. */
export function pgOptions(settings: Settings) {
  const where = settings.url
    ? { connectionString: settings.url }
    : { host: settings.host, port: settings.port, user: settings.username, password: settings.password, database: settings.database };
  return { ...where, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
}
