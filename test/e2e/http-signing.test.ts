/**
 * HTTP API request signing against a running server (reference/protocol.md
 * §3.1): decoded query values, any parameter order, extra parameters signed
 * in, the auth_timestamp window and its `auth_timestamp_tolerance` setting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, get } from '../helpers/http.js';
import { DEFAULT_APP, serverForSuite, startServer, type StartedServer } from '../helpers/server.js';
import { hmac, signedQuery } from '../helpers/sign.js';

const CHANNELS = `/apps/${DEFAULT_APP.app_id}/channels`;

function sign(method: string, path: string, params: Record<string, string>): string {
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&');
  return hmac(DEFAULT_APP.secret, `${method}\n${path}\n${sorted}`);
}

function authParams(extra: Record<string, string> = {}, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return { auth_key: DEFAULT_APP.key, auth_timestamp: String(timestamp), auth_version: '1.0', ...extra };
}

describe('HTTP API signing', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('accepts query values sent raw (pusher-http-node) or percent-encoded (pusher-http-php)', async () => {
    const raw = await get(server, 'channels', { info: 'user_count,subscription_count', filter_by_prefix: 'presence-' }, { encode: (value) => value });
    assert.equal(raw.status, 200, raw.body);
    const encoded = await get(server, 'channels', { info: 'user_count,subscription_count', filter_by_prefix: 'presence-' }, { encode: encodeURIComponent });
    assert.equal(encoded.status, 200, encoded.body);
    const everything = await get(server, 'channels', { info: 'user_count', filter_by_prefix: 'presence-' }, {
      encode: (value) => [...Buffer.from(value)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''),
    });
    assert.equal(everything.status, 200, everything.body);
  });

  it('does not depend on the order of the query parameters', async () => {
    const params = authParams({ filter_by_prefix: 'presence-' });
    const signature = sign('GET', CHANNELS, params);
    const reversed = Object.entries({ ...params, auth_signature: signature })
      .reverse()
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const response = await fetch(`${server.url}${CHANNELS}?${reversed}`);
    assert.equal(response.status, 200);
  });

  it('signs extra query parameters in: an unsigned extra parameter is rejected', async () => {
    const params = authParams({ custom: 'a b&c' });
    const signed = new URLSearchParams({ ...params, auth_signature: sign('GET', CHANNELS, params) });
    assert.equal((await fetch(`${server.url}${CHANNELS}?${signed}`)).status, 200);
    signed.append('sneaky', '1');
    assert.equal((await fetch(`${server.url}${CHANNELS}?${signed}`)).status, 401);
  });

  it('uses the last value of a repeated parameter, as PHP does', async () => {
    const params = authParams({ filter_by_prefix: 'presence-' });
    const signature = sign('GET', CHANNELS, params);
    const query = `${new URLSearchParams({ ...params, auth_signature: signature })}`;
    const response = await fetch(`${server.url}${CHANNELS}?filter_by_prefix=ignored-&${query}`);
    assert.equal(response.status, 200);
  });

  it('accepts HEAD where GET is allowed, signed as HEAD', async () => {
    const params = authParams();
    const response = await fetch(`${server.url}${CHANNELS}?${new URLSearchParams({ ...params, auth_signature: sign('HEAD', CHANNELS, params) })}`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    const up = await fetch(`${server.url}/up`, { method: 'HEAD' });
    assert.equal(up.status, 200);
  });

  it('rejects timestamps outside ±600 s and accepts them inside', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [timestamp, status] of [
      [now, 200],
      [now - 590, 200],
      [now + 590, 200],
      [now - 610, 401],
      [now + 610, 401],
      [0, 401],
    ] as const) {
      const response = await api(server, 'GET', CHANNELS, { timestamp });
      assert.equal(response.status, status, `${timestamp - now}s: ${response.body}`);
    }
  });

  it('explains a body_md5 that does not match the body', async () => {
    const body = '{"name":"e","data":"d","channel":"c"}';
    const response = await api(server, 'POST', `/apps/${DEFAULT_APP.app_id}/events`, { body, bodyMd5: 'd41d8cd98f00b204e9800998ecf8427e' });
    assert.equal(response.status, 401);
    assert.match((response.json() as { error: string }).error, /body_md5/);
  });

  it('recomputes body_md5: a client that signs none for a non-empty body is rejected', async () => {
    const body = '{"name":"e","data":"d","channel":"c"}';
    const path = `/apps/${DEFAULT_APP.app_id}/events`;
    const params = signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret });
    const response = await fetch(`${server.url}${path}?${new URLSearchParams(params)}`, { method: 'POST', body });
    assert.equal(response.status, 401);
  });
});

describe('auth_timestamp_tolerance', () => {
  let strict: StartedServer;
  let disabled: StartedServer;
  before(async () => {
    [strict, disabled] = await Promise.all([
      startServer({ server: { auth_timestamp_tolerance: 30 } }),
      startServer({ server: { auth_timestamp_tolerance: 0 } }),
    ]);
  });
  after(async () => {
    await Promise.all([strict.stop(), disabled.stop()]);
  });

  it('uses the configured window', async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await api(strict, 'GET', CHANNELS, { timestamp: now - 20 })).status, 200);
    const stale = await api(strict, 'GET', CHANNELS, { timestamp: now - 60 });
    assert.equal(stale.status, 401);
    assert.match((stale.json() as { error: string }).error, /30s/);
  });

  it('0 disables the check (Reverb parity), the signature is still verified', async () => {
    assert.equal((await api(disabled, 'GET', CHANNELS, { timestamp: 1353088179 })).status, 200);
    assert.equal((await api(disabled, 'GET', CHANNELS, { timestamp: 1353088179, secret: 'wrong' })).status, 401);
  });
});
