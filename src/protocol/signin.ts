/**
 * `pusher:signin` (Pusher user authentication): the signed user_data becomes
 * the connection's user, which unlocks `#server-to-user-<id>` and lets
 * terminate_connections find the connection.
 */
import type { Connection } from './connection.js';
import { encodeFrame, ERRORS } from './wire.js';
import { userStringToSign, verifyAuth } from './signatures.js';
import { readWatchlist } from './watchlist.js';

export function handleSignin(connection: Connection, data: unknown): void | Promise<void> {
  if (data === null || typeof data !== 'object') return connection.error(ERRORS.invalidMessage);
  const { auth, user_data: userData } = data as Record<string, unknown>;
  if (typeof userData !== 'string') return connection.error(ERRORS.invalidMessage);
  const { key, secret } = connection.app.config;
  if (!verifyAuth(auth, key, secret, userStringToSign(connection.socketId, userData))) {
    return connection.error(ERRORS.unauthorized, true);
  }
  let user: Record<string, unknown> | null;
  try {
    user = JSON.parse(userData) as Record<string, unknown> | null;
  } catch {
    user = null;
  }
  const id = user?.id;
  if (!user || (typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
    return connection.error({ code: 4009, message: 'The returned user data must contain the "id" field.' }, true);
  }
  // Signing in again replaces the user.
  signOut(connection);
  connection.user = { id: String(id), userData };
  connection.authorized = true;
  signedIn(connection, connection.user.id);
  connection.send(encodeFrame('pusher:signin_success', JSON.stringify({ user_data: userData })));
  if (connection.app.config.watchlistEvents) return startWatching(connection, readWatchlist(user));
}

/** The user's first signed-in connection on this server makes them online here (the cluster says whether anywhere). */
function signedIn(connection: Connection, userId: string): void {
  const app = connection.app;
  const count = app.signedIn.get(userId) ?? 0;
  app.signedIn.set(userId, count + 1);
  if (count === 0) app.server.cluster.userPresence(app.id, userId, true);
}

/** Watches the users, then tells the connection which of them are online now. */
async function startWatching(connection: Connection, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const app = connection.app;
  connection.watchlist = userIds;
  app.watchers.watch(connection, userIds);
  const online = await app.server.cluster.onlineUsers(app.id, userIds);
  app.watchers.tell(connection, 'online', userIds.filter((userId) => online.has(userId)));
}

/** The connection is no longer signed in (closed, or signing in as someone else). */
export function signOut(connection: Connection): void {
  const user = connection.user;
  if (!user) return;
  const app = connection.app;
  connection.user = undefined;
  if (connection.watchlist) app.watchers.unwatch(connection, connection.watchlist);
  connection.watchlist = undefined;
  const count = (app.signedIn.get(user.id) ?? 1) - 1;
  if (count > 0) return void app.signedIn.set(user.id, count);
  app.signedIn.delete(user.id);
  app.server.cluster.userPresence(app.id, user.id, false);
}
