/**
 * `servers.reverb.pulse`: whether and where Reverb's message counts go to
 * Laravel Pulse, decided as Reverb's server decides it, from the Laravel
 * project's config/pulse.php (laravel/pulse.ts), with reverb-ts's own keys
 * taking precedence when they are set:
 *
 * - recorded when Pulse is enabled (`pulse.enabled`) and Reverb's
 *   ReverbMessages recorder is registered and not disabled in its
 *   `recorders` — or when `pulse.enabled` here (REVERB_PULSE_ENABLED) is
 *   true; never when it is false, when Pulse is disabled or when the
 *   recorder is;
 * - sampled at `sample_rate` here (REVERB_PULSE_SAMPLE_RATE), else the
 *   recorder's `sample_rate`, else 1;
 * - written by Pulse's ingest driver (`pulse.ingest.driver`, or
 *   `ingest_driver` here): `storage` into the tables of
 *   `pulse.storage.database.connection`, `redis` onto Pulse's ingest stream
 *   on `pulse.ingest.redis.connection` of config/database.php.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { DatabaseConnection, SqlConnectionConfig } from './laravel/database-connection.js';
import { intervalMilliseconds, MESSAGES_RECORDER, type LaravelPulseSettings } from './laravel/pulse.js';
import type { RedisConnectionConfig } from './laravel/redis-connection.js';

const unset = (value: unknown) => value === '' || value === undefined || value === null;

const optionalFlag = z.preprocess((value) => {
  if (unset(value)) return null;
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0) return false;
  return value;
}, z.boolean({ error: 'expected true, false or null (null: as config/pulse.php says)' }).nullable());

const optionalName = z.preprocess(
  (value) => (unset(value) ? null : typeof value === 'number' ? String(value) : value),
  z.string({ error: 'expected a connection name or null' }).nullable(),
);

const rate = z.preprocess(
  (value) => (unset(value) ? null : typeof value === 'string' ? Number(value) : value),
  z.number({ error: 'expected a number from 0 to 1' }).min(0, { message: 'expected a number from 0 to 1' }).max(1, { message: 'expected a number from 0 to 1' }).nullable(),
);

export const pulseSchema = z
  .object({
    enabled: optionalFlag,
    sample_rate: rate,
    connection: optionalName,
    ingest_driver: z.preprocess((value) => (unset(value) ? null : value), z.enum(['storage', 'redis'], { error: 'expected storage or redis' }).nullable()),
    redis_connection: optionalName,
  })
  .nullish();

/** Pulse's ingest stream, before Laravel's Redis prefix (RedisIngest::$stream). */
export const INGEST_STREAM = 'laravel:pulse:ingest';

/** How Pulse trims its ingest stream (RedisIngest::trim()): XTRIM MAXLEN ~ count, or MINID ~ now - ms. */
export type PulseTrim = { readonly maxLength: number } | { readonly keepMs: number };

export type PulseIngest =
  | { readonly driver: 'storage'; readonly database: SqlConnectionConfig }
  | {
      readonly driver: 'redis';
      readonly redis: RedisConnectionConfig;
      /** The stream's key: Laravel's Redis prefix, then laravel:pulse:ingest. */
      readonly stream: string;
      readonly trim: PulseTrim;
      /** Pulse's pulse.ingest.trim.lottery: trimmed after an ingest with the odds chances / outOf. */
      readonly trimLottery: readonly [chances: number, outOf: number];
    };

export interface PulseContext {
  readonly settings: LaravelPulseSettings;
  readonly databases: (name: string | null) => DatabaseConnection;
  readonly redisConnections: (name: string | null) => RedisConnectionConfig;
}

/** What the server needs to feed Pulse: interval, sampling and where the counts go. */
export interface PulseRecording {
  readonly ingestInterval: number;
  readonly sampleRate: number;
  readonly ingest: PulseIngest;
  /** Where Pulse's settings were read (config/pulse.php …); null: the environment only. */
  readonly source: string | null;
}

function invalid(key: string, value: unknown, expected: string): never {
  throw new ConfigError(`Invalid configuration: ${key} = ${JSON.stringify(value)} (${expected})`);
}

function ingestInterval(raw: unknown): number {
  const value = unset(raw) ? 15 : typeof raw === 'string' ? Number(raw) : raw;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    invalid('servers.reverb.pulse_ingest_interval', raw, 'expected a positive number; REVERB_PULSE_INGEST_INTERVAL');
  }
  return value;
}

function trim(settings: LaravelPulseSettings): PulseTrim {
  const where = `${settings.source ?? 'PULSE_INGEST_KEEP'}: pulse.ingest.trim.keep`;
  if (typeof settings.trimKeep === 'number') {
    if (!Number.isInteger(settings.trimKeep) || settings.trimKeep < 0) invalid(where, settings.trimKeep, 'expected an entry count or an interval such as "7 days"');
    return { maxLength: settings.trimKeep };
  }
  const keepMs = intervalMilliseconds(settings.trimKeep);
  if (keepMs === undefined) invalid(where, settings.trimKeep, 'expected an entry count or an interval such as "7 days"');
  return { keepMs };
}

function ingest(section: z.infer<typeof pulseSchema>, context: PulseContext): PulseIngest {
  const { settings } = context;
  const driver = section?.ingest_driver ?? settings.ingestDriver;
  if (driver === 'redis') {
    const redis = context.redisConnections(section?.redis_connection ?? settings.redisConnection);
    return { driver, redis, stream: `${redis.prefix}${INGEST_STREAM}`, trim: trim(settings), trimLottery: settings.trimLottery };
  }
  if (driver !== 'storage') {
    invalid(`${settings.source ?? 'PULSE_INGEST_DRIVER'}: pulse.ingest.driver`, driver, 'reverb-ts writes through Pulse\'s storage or redis ingest');
  }
  const name = section?.connection ?? settings.databaseConnection;
  const database = context.databases(name);
  if (database.driver === 'sqlite' || database.driver === 'unsupported') {
    const problem = database.driver === 'sqlite' ? `the ${name ?? 'default'} database connection is SQLite` : `the ${database.reason}`;
    throw new ConfigError(
      `Invalid configuration: Laravel Pulse is fed (servers.reverb.pulse) through its storage (Pulse's tables are written on MySQL, MariaDB or PostgreSQL; ${problem}; set PULSE_DB_CONNECTION, or PULSE_INGEST_DRIVER=redis)`,
    );
  }
  return { driver: 'storage', database };
}

/** null: Reverb's messages are not recorded. */
export function toPulse(section: z.infer<typeof pulseSchema>, interval: unknown, context: PulseContext): PulseRecording | null {
  const { settings } = context;
  const { recorder } = settings;
  if (section?.enabled === false || !settings.enabled || recorder?.enabled === false) return null;
  // Off unless turned on here or by registering Reverb's recorder in config/pulse.php.
  if (section?.enabled !== true && recorder === undefined) return null;
  const recorderRate = recorder?.sampleRate ?? null;
  if (recorderRate !== null && !(recorderRate >= 0 && recorderRate <= 1)) {
    invalid(`${settings.source}: recorders[${MESSAGES_RECORDER}::class].sample_rate`, recorderRate, 'expected a number from 0 to 1');
  }
  return {
    ingestInterval: ingestInterval(interval),
    sampleRate: section?.sample_rate ?? recorderRate ?? 1,
    ingest: ingest(section, context),
    source: settings.source,
  };
}
