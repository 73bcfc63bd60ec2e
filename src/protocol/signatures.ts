/**
 * All HMAC work lives here: channel authorization, user authentication and
 * HTTP API request signing. Every comparison is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function hmacHex(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}

export function md5Hex(body: Buffer | string): string {
  return createHash('md5').update(body).digest('hex');
}

/** Constant-time string comparison (length differences leak only the length). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    // Compare against itself so the time spent does not depend on where strings differ.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * Verifies an `auth` value of the form `<app key>:<hex signature>` over
 * `stringToSign`. Both the key part and the HMAC must match.
 */
export function verifyAuth(auth: unknown, key: string, secret: string, stringToSign: string): boolean {
  if (typeof auth !== 'string') return false;
  const colon = auth.indexOf(':');
  if (colon < 0) return false;
  const keyOk = safeEqual(auth.slice(0, colon), key);
  const signatureOk = safeEqual(auth.slice(colon + 1), hmacHex(secret, stringToSign));
  return keyOk && signatureOk;
}

/** String signed for private/presence subscriptions: `socket:channel[:channel_data]`. */
export function channelStringToSign(socketId: string, channel: string, channelData?: string): string {
  return channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
}

/** String signed for `pusher:signin`. */
export function userStringToSign(socketId: string, userData: string): string {
  return `${socketId}::user::${userData}`;
}

/**
 * The Pusher HTTP API string to sign: `METHOD\npath\nsorted query`, with query
 * values decoded, `auth_signature` left out and `body_md5` recomputed by us.
 */
export function apiStringToSign(
  method: string,
  path: string,
  params: ReadonlyMap<string, string>,
  bodyMd5: string | undefined,
): string {
  const entries: [string, string][] = [];
  for (const [name, value] of params) {
    if (name === 'auth_signature' || name === 'body_md5') continue;
    entries.push([name, value]);
  }
  if (bodyMd5 !== undefined) entries.push(['body_md5', bodyMd5]);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const query = entries.map(([name, value]) => `${name}=${value}`).join('&');
  return `${method.toUpperCase()}\n${path}\n${query}`;
}
