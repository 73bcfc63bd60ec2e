/**
 * `pusher:signin` (Pusher user authentication): the signed user_data becomes
 * the connection's user, which unlocks `#server-to-user-<id>` and lets
 * terminate_connections find the connection.
 */
import type { Connection } from './connection.js';
import { encodeFrame, ERRORS } from './wire.js';
import { userStringToSign, verifyAuth } from './signatures.js';

export function handleSignin(connection: Connection, data: unknown): void {
  if (data === null || typeof data !== 'object') return connection.error(ERRORS.invalidMessage);
  const { auth, user_data: userData } = data as Record<string, unknown>;
  if (typeof userData !== 'string') return connection.error(ERRORS.invalidMessage);
  const { key, secret } = connection.app.config;
  if (!verifyAuth(auth, key, secret, userStringToSign(connection.socketId, userData))) {
    return connection.error(ERRORS.unauthorized, true);
  }
  let id: unknown;
  try {
    id = (JSON.parse(userData) as Record<string, unknown> | null)?.id;
  } catch {
    id = undefined;
  }
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
    return connection.error({ code: 4009, message: 'The returned user data must contain the "id" field.' }, true);
  }
  connection.user = { id: String(id), userData };
  connection.authorized = true;
  connection.send(encodeFrame('pusher:signin_success', JSON.stringify({ user_data: userData })));
}
