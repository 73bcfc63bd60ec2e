/**
 * The database provider's memory (soketi and sockudo learnt they need one
 * when lookups overloaded their databases): every app looked up, and every
 * key or id found unknown, is answered from memory for `cache_ttl` seconds.
 *
 * - A held app is answered at once, even past its TTL (it is read again
 *   behind the answer): connecting never waits for the database once an app
 *   was seen.
 * - Lookups that miss wait together: the keys (or ids) missed while one query
 *   runs go to the store in the next one, so a burst of unknown keys costs a
 *   few queries, not one each; at most one query runs at a time.
 * - Apps held are read again every `cache_ttl`, so a change made directly in
 *   the table (a rotated secret, a disabled app) is seen within it; listeners
 *   hear of every change. `forget()` makes a change seen at once.
 * - When the store fails, the apps held keep being served, lookups that need
 *   the store are refused (ApplicationsUnavailable) without asking it again
 *   for a second, and the outage is reported once.
 * - Lookup queries start at least LOOKUP_QUERY_SPACING_MS apart: a flood of
 *   distinct unknown keys waits (briefly) and is batched instead of becoming
 *   a flood of queries.
 */
import { ConfigError } from '../config/errors.js';
import { parseApp } from '../config/schema.js';
import type { AppConfig } from '../config/types.js';
import { ApplicationsUnavailable, type ApplicationProvider, type AppLookup } from '../protocol/apps.js';
import type { AppStore, RawApp } from './store.js';

export interface CachedProviderOptions {
  readonly ttlSeconds: number;
  /** Names the store in messages (the table). */
  readonly source: string;
  /** A store outage began, or a row could not be read: told once each. */
  readonly warn: (message: string) => void;
  /** The store answers again after an outage. */
  readonly recovered: (message: string) => void;
  /** One query was sent to the store (metrics). */
  readonly queried?: () => void;
  readonly now?: () => number;
}

type Column = 'key' | 'id';

interface Entry {
  readonly app: AppConfig;
  expires: number;
}

interface Waiter {
  resolve(app: AppConfig | undefined): void;
  reject(error: Error): void;
}

const MAX_VALUES_PER_QUERY = 500;
/** Distinct keys and ids that may wait for the store; past it new ones are refused at once. */
const MAX_WAITING = 10_000;
/** After a failed query, lookups that need the store are refused for this long without asking it. */
const RETRY_AFTER_MS = 1000;
/** Unknown keys and ids remembered at most (the oldest are forgotten first). */
const MAX_UNKNOWN = 10_000;
/**
 * Lookup queries start at least this far apart (10 a second at most): the
 * misses of the wait go in the next query together, so a flood of distinct
 * unknown keys costs the database a bounded number of queries however fast
 * it arrives, and a first lookup waits at most this long for its turn.
 */
const LOOKUP_QUERY_SPACING_MS = 100;

export class CachedApplicationProvider implements ApplicationProvider {
  private readonly byId = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();
  /** Keys and ids the store did not have, with when to ask again. */
  private readonly unknown: Record<Column, Map<string, number>> = { key: new Map(), id: new Map() };
  private readonly waiting: Record<Column, Map<string, Waiter[]>> = { key: new Map(), id: new Map() };
  private readonly listeners: ((id: string) => void)[] = [];
  private readonly ttlMs: number;
  private readonly now: () => number;
  private querying = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastLookupQuery = -Infinity;
  private downUntil = 0;
  private down = false;
  private readonly badRows = new Set<string>();
  private readonly refreshTimer: NodeJS.Timeout;

  constructor(
    private readonly store: AppStore,
    private readonly options: CachedProviderOptions,
  ) {
    this.ttlMs = options.ttlSeconds * 1000;
    this.now = options.now ?? Date.now;
    this.refreshTimer = setInterval(() => void this.refresh(), this.ttlMs);
    this.refreshTimer.unref();
  }

  async all(): Promise<readonly AppConfig[]> {
    const rows = await this.ask(() => this.store.all());
    return rows.map((row) => this.parse(row)).filter((app) => app !== undefined);
  }

  findById(id: string): AppLookup {
    return this.lookup('id', id);
  }

  findByKey(key: string): AppLookup {
    return this.lookup('key', key);
  }

  forget(id: string): void {
    const entry = this.byId.get(id);
    if (entry) this.drop(entry.app);
    // The change may be a new app whose key or id was asked for before it existed.
    this.unknown.key.clear();
    this.unknown.id.clear();
  }

  onChange(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    clearInterval(this.refreshTimer);
    clearTimeout(this.flushTimer);
    return this.store.close();
  }

  private lookup(column: Column, value: string): AppLookup {
    const now = this.now();
    const entry = (column === 'key' ? this.byKey : this.byId).get(value);
    if (entry) {
      // A held app is never waited for: past its TTL it is read again behind the answer.
      if (entry.expires <= now && now >= this.downUntil && !this.waiting[column].has(value)) {
        entry.expires = now + this.ttlMs;
        this.enqueue(column, value).catch(() => undefined);
      }
      return entry.app;
    }
    const unknownUntil = this.unknown[column].get(value);
    if (unknownUntil !== undefined && (unknownUntil > now || now < this.downUntil)) return undefined;
    if (now < this.downUntil) throw this.unavailable();
    return this.enqueue(column, value);
  }

  private enqueue(column: Column, value: string): Promise<AppConfig | undefined> {
    const waiting = this.waiting[column];
    return new Promise((resolve, reject) => {
      const waiters = waiting.get(value);
      if (waiters) return void waiters.push({ resolve, reject });
      if (this.waiting.key.size + this.waiting.id.size >= MAX_WAITING) return reject(this.unavailable('too many lookups are waiting'));
      waiting.set(value, [{ resolve, reject }]);
      if (!this.querying) setImmediate(() => void this.flush());
    });
  }

  /** Sends the next batch of waiting lookups to the store; one query at a time, and a few a second. */
  private async flush(): Promise<void> {
    if (this.querying || this.flushTimer) return;
    const column: Column | undefined = this.waiting.key.size > 0 ? 'key' : this.waiting.id.size > 0 ? 'id' : undefined;
    if (!column) return;
    // The spacing is real time (the `now` option is the TTLs' clock).
    const now = performance.now();
    const wait = this.lastLookupQuery + LOOKUP_QUERY_SPACING_MS - now;
    if (wait > 0) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, wait);
      return;
    }
    this.lastLookupQuery = now;
    const batch = new Map<string, Waiter[]>();
    for (const [value, waiters] of this.waiting[column]) {
      batch.set(value, waiters);
      this.waiting[column].delete(value);
      if (batch.size === MAX_VALUES_PER_QUERY) break;
    }
    const values = [...batch.keys()];
    this.querying = true;
    try {
      const rows = await this.ask(() => (column === 'key' ? this.store.findByKeys(values) : this.store.findByIds(values)));
      const found = this.rememberRows(rows, column);
      for (const [value, waiters] of batch) {
        const app = found.get(value);
        if (!app) this.rememberUnknown(column, value);
        for (const waiter of waiters) waiter.resolve(app);
      }
    } catch (error) {
      for (const [value, waiters] of batch) {
        // What was held before keeps being served while the store is down.
        const held = (column === 'key' ? this.byKey : this.byId).get(value);
        for (const waiter of waiters) {
          if (held) waiter.resolve(held.app);
          else if (this.unknown[column].has(value)) waiter.resolve(undefined);
          else waiter.reject(error instanceof ApplicationsUnavailable ? error : this.unavailable());
        }
      }
    } finally {
      this.querying = false;
      if (this.waiting.key.size + this.waiting.id.size > 0) setImmediate(() => void this.flush());
    }
  }

  /** Runs one store query, keeping track of outages. */
  private async ask<T>(query: () => Promise<T>): Promise<T> {
    this.options.queried?.();
    try {
      const result = await query();
      this.downUntil = 0;
      if (this.down) {
        this.down = false;
        this.options.recovered(`The apps table ${this.options.source} answers again.`);
      }
      return result;
    } catch (error) {
      this.downUntil = this.now() + RETRY_AFTER_MS;
      if (!this.down) {
        this.down = true;
        const reason = error instanceof Error ? error.message : String(error);
        this.options.warn(`The apps table ${this.options.source} cannot be read (${reason}): serving the apps held in memory, refusing unknown keys until it answers.`);
      }
      throw this.unavailable();
    }
  }

  private unavailable(reason = `the apps table ${this.options.source} cannot be read`): ApplicationsUnavailable {
    return new ApplicationsUnavailable(reason);
  }

  /** A row as an app; a row the schema refuses is left out and told once. */
  private parse(row: RawApp): AppConfig | undefined {
    const where = `${this.options.source} (id ${JSON.stringify(row.app_id)})`;
    try {
      const app = parseApp(row, where);
      this.badRows.delete(where);
      return app;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (!this.badRows.has(where)) {
        this.badRows.add(where);
        this.options.warn(`${error.message}: the app is treated as unknown until its row is fixed.`);
      }
      return undefined;
    }
  }

  /** Holds the apps of the rows the schema accepts; returns them by `column`. */
  private rememberRows(rows: readonly RawApp[], column: Column): Map<string, AppConfig> {
    const found = new Map<string, AppConfig>();
    for (const row of rows) {
      const app = this.parse(row);
      if (app) found.set(app[column], this.remember(app));
    }
    return found;
  }

  /** Holds `app` for a TTL; listeners hear when it differs from what was held. Returns what is held. */
  private remember(app: AppConfig): AppConfig {
    const held = this.byId.get(app.id);
    const expires = this.now() + this.ttlMs;
    if (held && JSON.stringify(held.app) === JSON.stringify(app)) {
      held.expires = expires;
      return held.app;
    }
    if (held) this.drop(held.app);
    const entry = { app, expires };
    this.byId.set(app.id, entry);
    this.byKey.set(app.key, entry);
    this.unknown.id.delete(app.id);
    this.unknown.key.delete(app.key);
    if (held) this.changed(app.id);
    return app;
  }

  private rememberUnknown(column: Column, value: string): void {
    const unknown = this.unknown[column];
    if (column === 'id') {
      const held = this.byId.get(value);
      if (held) {
        this.drop(held.app);
        this.changed(value);
      }
    }
    if (unknown.size >= MAX_UNKNOWN) unknown.delete(unknown.keys().next().value!);
    unknown.set(value, this.now() + this.ttlMs);
  }

  private drop(app: AppConfig): void {
    if (this.byId.get(app.id)?.app === app) this.byId.delete(app.id);
    if (this.byKey.get(app.key)?.app === app) this.byKey.delete(app.key);
  }

  private changed(id: string): void {
    for (const listener of this.listeners) listener(id);
  }

  /** Reads every app held again, so that changes made in the table are seen within the TTL. */
  private async refresh(): Promise<void> {
    const ids = [...this.byId.keys()];
    for (let start = 0; start < ids.length; start += MAX_VALUES_PER_QUERY) {
      const chunk = ids.slice(start, start + MAX_VALUES_PER_QUERY);
      let rows: RawApp[];
      try {
        rows = await this.ask(() => this.store.findByIds(chunk));
      } catch {
        return;
      }
      const found = this.rememberRows(rows, 'id');
      for (const id of chunk) if (!found.has(id)) this.rememberUnknown('id', id);
    }
  }
}
