/** A connection that is going away leaves everything it joined: its channels, and its signed-in user. */
import type { Connection } from './connection.js';
import { signOut } from './signin.js';
import { unsubscribeAll } from './subscriptions.js';

export function departAll(connection: Connection): Promise<void> {
  signOut(connection);
  return unsubscribeAll(connection);
}
