/**
 * Where the server finds its apps: Reverb's ApplicationProvider (all / find
 * by id / find by key). The protocol owns the interface; `config` and
 * `database` providers (src/apps) implement it.
 *
 * A lookup answers from memory when it can — the connect path must not wait
 * for a database when the app is cached — and returns a promise only when it
 * has to ask its store.
 */
import type { AppConfig } from '../config/types.js';

export type AppLookup = AppConfig | undefined | Promise<AppConfig | undefined>;

export interface ApplicationProvider {
  /** Every app the provider knows (including disabled ones). */
  all(): Promise<readonly AppConfig[]>;
  findById(id: string): AppLookup;
  findByKey(key: string): AppLookup;
  /**
   * Drops what is cached of an app (changed through reverb-ts, told over the
   * cluster), so that the next lookup asks the store.
   */
  forget(id: string): void;
  /** Calls `listener` with the id of every app whose settings changed, or that went away, as the provider notices. */
  onChange(listener: (id: string) => void): void;
  close(): Promise<void>;
}

/** The provider cannot answer (its store is down) and holds nothing for the app asked for. */
export class ApplicationsUnavailable extends Error {}
