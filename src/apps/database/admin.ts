/** What the `reverb apps:*` commands do to the apps table. */
import type { AppRow } from './columns.js';

export interface AppAdmin {
  /** Every app's row, by column name, ordered by id. */
  rows(): Promise<AppRow[]>;
  /** The row of an app, by column name; undefined when there is none. */
  row(id: string): Promise<AppRow | undefined>;
  /** Inserts an app: `fields` by column name (id, key and secret required; a missing setting is NULL = the default). */
  create(fields: AppRow): Promise<void>;
  /** Sets the given columns of an app; false when there is no such app. */
  update(id: string, fields: AppRow): Promise<boolean>;
  /** False when there is no such app. */
  delete(id: string): Promise<boolean>;
  setEnabled(id: string, enabled: boolean): Promise<boolean>;
  rotateSecret(id: string, secret: string): Promise<boolean>;
}
