/**
 * A store of apps outside the configuration (a database table). It answers in
 * Reverb's app shape — the keys of an entry of config/reverb.php's
 * `apps.apps`, plus `enabled` — so the configuration's own schema validates
 * and types what it returns.
 */
export type RawApp = Record<string, unknown>;

export interface AppStore {
  /** The apps whose key is one of `keys`, in one query (or a few for very many keys). */
  findByKeys(keys: readonly string[]): Promise<RawApp[]>;
  /** The apps whose id is one of `ids`, likewise. */
  findByIds(ids: readonly string[]): Promise<RawApp[]>;
  all(): Promise<RawApp[]>;
  close(): Promise<void>;
}
