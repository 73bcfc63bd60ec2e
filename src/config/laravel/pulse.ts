/**
 * What Laravel Pulse's configuration (config('pulse'): the project's
 * config/pulse.php, or its cached configuration) says about recording
 * Reverb's messages: whether Pulse records at all, where its entries go (the
 * ingest driver, its Redis connection or the storage's database connection,
 * the ingest stream's trimming), and the settings of Reverb's ReverbMessages
 * recorder. Without config('pulse'), Pulse's defaults from the environment,
 * as its published config/pulse.php has them.
 */
import { env as envOr, type Env } from '../env.js';

/** The recorder Reverb's server feeds, as config/pulse.php names it (`ReverbMessages::class`). */
export const MESSAGES_RECORDER = 'Laravel\\Reverb\\Pulse\\Recorders\\ReverbMessages';

export interface LaravelPulseSettings {
  /** Where config('pulse') was read from; null: no Pulse configuration, Pulse's defaults from the environment. */
  readonly source: string | null;
  /** pulse.enabled (PULSE_ENABLED, default true): false and Pulse records nothing. */
  readonly enabled: boolean;
  /** pulse.ingest.driver (PULSE_INGEST_DRIVER, default storage). */
  readonly ingestDriver: string;
  /** pulse.ingest.redis.connection (PULSE_REDIS_CONNECTION); null = `default`. */
  readonly redisConnection: string | null;
  /** pulse.storage.database.connection (PULSE_DB_CONNECTION); null = the default connection. */
  readonly databaseConnection: string | null;
  /** pulse.ingest.trim.keep (PULSE_INGEST_KEEP, default '7 days'): an entry count (MAXLEN) or an interval (MINID). */
  readonly trimKeep: string | number;
  /** pulse.ingest.trim.lottery (default [1, 1000]): the odds of trimming the stream after an ingest. */
  readonly trimLottery: readonly [number, number];
  /** recorders[ReverbMessages::class]; undefined when not listed (Reverb then records nothing). */
  readonly recorder: { readonly enabled: boolean; readonly sampleRate: number | null } | undefined;
}

type Section = Record<string, unknown>;

function section(value: unknown): Section {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Section) : {};
}

function text(value: unknown): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

/** PHP's truthiness for the values a config holds. */
function truthy(value: unknown): boolean {
  return !(value === false || value === null || value === undefined || value === 0 || value === '' || value === '0' || (Array.isArray(value) && value.length === 0));
}

function lottery(value: unknown): readonly [number, number] {
  if (Array.isArray(value) && value.length === 2 && value.every((n) => Number.isFinite(Number(n)))) return [Number(value[0]), Number(value[1])];
  return [1, 1000];
}

/** Pulse's register(): a recorder set to false, or with `enabled` false, is not registered. */
function recorder(recorders: Section): LaravelPulseSettings['recorder'] {
  const key = Object.keys(recorders).find((name) => name.replace(/^\\/, '') === MESSAGES_RECORDER);
  if (key === undefined) return undefined;
  const entry = recorders[key];
  if (entry === false) return { enabled: false, sampleRate: null };
  const settings = section(entry);
  const rate = text(settings.sample_rate);
  return { enabled: truthy(settings.enabled ?? true), sampleRate: rate === null ? null : Number(rate) };
}

/** `pulse` is config('pulse') (undefined: none), read from `source`. */
export function laravelPulseSettings(pulse: unknown, source: string | undefined, vars: Env): LaravelPulseSettings {
  if (pulse === undefined || source === undefined) {
    return {
      source: null,
      enabled: truthy(envOr(vars, 'PULSE_ENABLED', true)),
      ingestDriver: text(envOr(vars, 'PULSE_INGEST_DRIVER', 'storage')) ?? 'storage',
      redisConnection: text(envOr(vars, 'PULSE_REDIS_CONNECTION', null)),
      databaseConnection: text(envOr(vars, 'PULSE_DB_CONNECTION', null)),
      trimKeep: (envOr(vars, 'PULSE_INGEST_KEEP', '7 days') as string | number | null) ?? '7 days',
      trimLottery: [1, 1000],
      recorder: undefined,
    };
  }
  const config = section(pulse);
  const ingest = section(config.ingest);
  const trim = section(ingest.trim);
  const keep = trim.keep;
  return {
    source,
    enabled: truthy(config.enabled ?? true),
    ingestDriver: text(ingest.driver) ?? 'storage',
    redisConnection: text(section(ingest.redis).connection),
    databaseConnection: text(section(section(config.storage).database).connection),
    trimKeep: typeof keep === 'number' ? keep : (text(keep) ?? '7 days'),
    // Pulse before 1.0 named it ingest.trim_lottery.
    trimLottery: lottery(trim.lottery ?? ingest.trim_lottery),
    recorder: recorder(section(config.recorders)),
  };
}

const UNITS: readonly [RegExp, number][] = [
  [/^(ms|milliseconds?|millis?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hours?)$/, 3_600_000],
  [/^(d|days?)$/, 86_400_000],
  [/^(w|weeks?)$/, 7 * 86_400_000],
  // Carbon's cascade factors: 4 weeks a month, 12 months a year.
  [/^(mo|months?)$/, 28 * 86_400_000],
  [/^(y|years?)$/, 12 * 28 * 86_400_000],
];

/** CarbonInterval::fromString($keep)->totalMilliseconds for the forms config files use ('7 days', '12h 30m'); undefined otherwise. */
export function intervalMilliseconds(interval: string): number | undefined {
  const parts = [...interval.trim().toLowerCase().matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('').replace(/\s/g, '') !== interval.toLowerCase().replace(/\s/g, '')) return undefined;
  let total = 0;
  for (const [, amount, unit] of parts) {
    const factor = UNITS.find(([pattern]) => pattern.test(unit!))?.[1];
    if (factor === undefined) return undefined;
    total += Number(amount) * factor;
  }
  return total;
}
