/** Pusher signatures the bench needs: HTTP API request signing and channel authorization. */
import { createHash, createHmac } from 'node:crypto';

const hmac = (secret, text) => createHmac('sha256', secret).update(text).digest('hex');

/**
 * The signed query string of an HTTP API request (auth_version 1.0, body_md5
 * for bodies); `query`: more parameters (plain names and values, e.g. info).
 */
export function signedQuery({ method, path, body, key, secret, query = {} }) {
  const params = { ...query, auth_key: key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0' };
  if (body) params.body_md5 = createHash('md5').update(body).digest('hex');
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&');
  return `${sorted}&auth_signature=${hmac(secret, `${method}\n${path}\n${sorted}`)}`;
}

/** The `auth` of a private or presence subscription. */
export function channelAuth({ key, secret, socketId, channel, channelData }) {
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${key}:${hmac(secret, text)}`;
}
