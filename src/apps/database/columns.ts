/**
 * The apps table: one column per app setting (docs/apps.md), and a row's
 * mapping to Reverb's app shape (an entry of config/reverb.php's
 * `apps.apps`, plus `enabled`), which the configuration's schema validates.
 * A NULL setting is left out, so the schema's default applies.
 */
import type { RawApp } from '../store.js';

/**
 * How a column's value is read and written: `text` as it is; `number`
 * (integer or fractional); `boolean` (MySQL's tinyint(1) or PostgreSQL's
 * boolean); `origins` (a JSON array or comma-separated patterns); `json`.
 */
export type ColumnKind = 'text' | 'number' | 'boolean' | 'origins' | 'json';

export interface Column {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Where the value goes in the raw app: a key, or a group and a key. */
  readonly path: readonly [string] | readonly [string, string];
}

const column = (name: string, kind: ColumnKind, ...path: [string] | [string, string]): Column => ({
  name,
  kind,
  path: path.length ? path : [name],
});

const setting = (name: string, kind: ColumnKind): Column => column(name, kind, name);

/** The credentials: required, never NULL. */
export const CREDENTIAL_COLUMNS: readonly Column[] = [column('id', 'text', 'app_id'), setting('key', 'text'), setting('secret', 'text')];

/** The settings: NULL = the default. */
export const SETTING_COLUMNS: readonly Column[] = [
  setting('enabled', 'boolean'),
  setting('allowed_origins', 'origins'),
  setting('ping_interval', 'number'),
  setting('activity_timeout', 'number'),
  setting('pong_timeout', 'number'),
  setting('max_message_size', 'number'),
  setting('max_connections', 'number'),
  setting('accept_client_events_from', 'text'),
  column('rate_limiting_enabled', 'boolean', 'rate_limiting', 'enabled'),
  column('rate_limiting_max_attempts', 'number', 'rate_limiting', 'max_attempts'),
  column('rate_limiting_decay_seconds', 'number', 'rate_limiting', 'decay_seconds'),
  column('rate_limiting_terminate_on_limit', 'boolean', 'rate_limiting', 'terminate_on_limit'),
  setting('cache_ttl', 'number'),
  setting('max_channels_per_connection', 'number'),
  setting('max_presence_members_per_channel', 'number'),
  setting('max_presence_user_info_size', 'number'),
  setting('max_messages_per_second', 'number'),
  setting('max_backend_events_per_second', 'number'),
  setting('max_read_requests_per_second', 'number'),
  setting('max_channel_name_length', 'number'),
  setting('max_event_name_length', 'number'),
  setting('max_event_payload_size', 'number'),
  setting('max_channels_per_event', 'number'),
  setting('max_batch_size', 'number'),
  setting('subscription_count_events', 'boolean'),
  setting('authorized_connections_timeout', 'number'),
  setting('watchlist_events', 'boolean'),
  setting('webhooks', 'json'),
  column('webhook_batching_enabled', 'boolean', 'webhook_batching', 'enabled'),
  column('webhook_batching_window_ms', 'number', 'webhook_batching', 'window_ms'),
  column('webhook_batching_max_events', 'number', 'webhook_batching', 'max_events'),
];

export const COLUMNS: readonly Column[] = [...CREDENTIAL_COLUMNS, ...SETTING_COLUMNS];

/** Laravel's timestamps, written by the admin commands. */
export const TIMESTAMP_COLUMNS = ['created_at', 'updated_at'] as const;

const BY_NAME = new Map(COLUMNS.map((entry) => [entry.name, entry]));

export function columnNamed(name: string): Column | undefined {
  return BY_NAME.get(name);
}

/** A row of the table as a driver returns it (or as the admin commands build it), by column name. */
export type AppRow = Record<string, unknown>;

/**
 * A JSON column whose text does not parse: the schema rejects it (it is not
 * a list) and its message shows the parser's complaint, for that app alone.
 */
class InvalidJson {
  constructor(private readonly problem: string) {}
  toJSON(): string {
    return this.problem;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return new InvalidJson(`not valid JSON (${(error as Error).message}): ${text}`);
  }
}

function readBoolean(value: unknown): unknown {
  if (value === 1 || value === '1' || value === 't' || value === 'true') return true;
  if (value === 0 || value === '0' || value === 'f' || value === 'false') return false;
  return value;
}

/** A column's value as the raw app holds it. */
function read(kind: ColumnKind, value: unknown): unknown {
  if (kind === 'boolean') return readBoolean(value);
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return read(kind, value.toString('utf8'));
  if (typeof value !== 'string') return value;
  if (kind === 'json') return parseJson(value);
  // A JSON array, or Reverb's comma-separated form (which the schema splits).
  if (kind === 'origins') return value.trim().startsWith('[') ? parseJson(value) : value;
  return value;
}

/** A row in Reverb's app shape: NULL (or a missing column) leaves the setting out. */
export function rowToRawApp(row: AppRow): RawApp {
  const raw: Record<string, unknown> = {};
  for (const entry of COLUMNS) {
    const value = row[entry.name];
    if (value === null || value === undefined) continue;
    const [first, second] = entry.path;
    if (second === undefined) raw[first] = read(entry.kind, value);
    else ((raw[first] ??= {}) as Record<string, unknown>)[second] = read(entry.kind, value);
  }
  return raw;
}

/**
 * A value given on the command line (text) as the column stores it: NULL for
 * '' or `null`; numbers and booleans converted (after the schema accepted
 * them); JSON compacted; origins as a JSON array.
 */
export function toColumnValue(entry: Column, text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'null') return null;
  switch (entry.kind) {
    case 'number':
      return Number(trimmed);
    case 'boolean':
      return readBoolean(trimmed.toLowerCase());
    case 'json':
      return JSON.stringify(JSON.parse(trimmed));
    case 'origins':
      return JSON.stringify(trimmed.startsWith('[') ? JSON.parse(trimmed) : trimmed.split(',').map((origin) => origin.trim()));
    default:
      return text;
  }
}
