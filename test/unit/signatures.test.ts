/**
 * The signature vectors of reference/protocol.md §2 and §3.1 against the
 * server's own signing code (src/protocol/signatures.ts, src/http/signing.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppConfig } from '../../src/config/types.js';
import { parseQuery, signatureProblem } from '../../src/http/signing.js';
import {
  apiStringToSign,
  channelStringToSign,
  hmacHex,
  md5Hex,
  safeEqual,
  userStringToSign,
  verifyAuth,
} from '../../src/protocol/signatures.js';

const KEY = '278d425bdf160c739803';
const SECRET = '7ad3773142a6692b25b8';
const TIMESTAMP = 1353088179;

const APP = { id: '3', key: KEY, secret: SECRET } as AppConfig;

function params(entries: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(entries));
}

describe('HTTP API request signatures (protocol.md §3.1 vectors)', () => {
  const body = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';

  it('POST events vector: body_md5, string to sign and signature', () => {
    assert.equal(md5Hex(body), 'ec365a775a4cd0599faeb73354201b6f');
    const toSign = apiStringToSign(
      'POST',
      '/apps/3/events',
      params({ auth_key: KEY, auth_timestamp: String(TIMESTAMP), auth_version: '1.0' }),
      md5Hex(body),
    );
    assert.equal(
      toSign,
      'POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f',
    );
    assert.equal(hmacHex(SECRET, toSign), 'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c');
  });

  it('GET channels vector: user params sorted in, auth_signature left out', () => {
    const toSign = apiStringToSign(
      'get',
      '/apps/3/channels',
      params({
        info: 'user_count',
        filter_by_prefix: 'presence-',
        auth_version: '1.0',
        auth_timestamp: String(TIMESTAMP),
        auth_key: KEY,
        auth_signature: 'ignored',
      }),
      undefined,
    );
    assert.equal(
      toSign,
      'GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&filter_by_prefix=presence-&info=user_count',
    );
    assert.equal(hmacHex(SECRET, toSign), '16819168891cb5dfd72b5c7a5d3d602605b26c6ba1930033b5e2eeeb65010291');
  });

  it('replaces a client body_md5 with the one computed from the body', () => {
    const withWrong = apiStringToSign('POST', '/apps/3/events', params({ auth_key: KEY, body_md5: 'wrong' }), md5Hex(body));
    assert.equal(withWrong, `POST\n/apps/3/events\nauth_key=${KEY}&body_md5=ec365a775a4cd0599faeb73354201b6f`);
    const noBody = apiStringToSign('GET', '/apps/3/channels', params({ auth_key: KEY, body_md5: 'x' }), undefined);
    assert.equal(noBody, `GET\n/apps/3/channels\nauth_key=${KEY}`);
  });

  it('signatureProblem accepts the POST vector when the timestamp check is off', () => {
    const query = params({
      auth_key: KEY,
      auth_timestamp: String(TIMESTAMP),
      auth_version: '1.0',
      body_md5: 'ec365a775a4cd0599faeb73354201b6f',
      auth_signature: 'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c',
    });
    const request = { method: 'POST', path: '/apps/3/events', params: query, body: Buffer.from(body) };
    assert.equal(signatureProblem(request, APP, 0, TIMESTAMP + 10_000), undefined);
    assert.equal(signatureProblem(request, APP, 600, TIMESTAMP + 600), undefined);
    assert.match(signatureProblem(request, APP, 600, TIMESTAMP + 601) ?? '', /auth_timestamp/);
    assert.match(signatureProblem(request, APP, 600, TIMESTAMP - 601) ?? '', /auth_timestamp/);
    const otherBody = { ...request, body: Buffer.from(body.replace('foo', 'bar')) };
    assert.ok(signatureProblem(otherBody, APP, 0, TIMESTAMP));
  });

  it('signatureProblem accepts the GET vector sent the PHP way (info and prefix percent-encoded)', () => {
    const query = parseQuery(
      `auth_key=${KEY}&auth_timestamp=${TIMESTAMP}&auth_version=1.0&filter_by_prefix=presence-&info=user%5Fcount` +
        '&auth_signature=16819168891cb5dfd72b5c7a5d3d602605b26c6ba1930033b5e2eeeb65010291',
    );
    assert.equal(query.get('info'), 'user_count');
    assert.equal(signatureProblem({ method: 'GET', path: '/apps/3/channels', params: query, body: Buffer.alloc(0) }, APP, 0, 0), undefined);
  });

  it('signatureProblem rejects a foreign auth_key and a missing signature', () => {
    const base = { auth_key: KEY, auth_timestamp: String(TIMESTAMP), auth_version: '1.0', filter_by_prefix: 'presence-', info: 'user_count' };
    const good = '16819168891cb5dfd72b5c7a5d3d602605b26c6ba1930033b5e2eeeb65010291';
    const request = (query: Record<string, string>) => ({ method: 'GET', path: '/apps/3/channels', params: params(query), body: Buffer.alloc(0) });
    assert.match(signatureProblem(request({ ...base, auth_key: 'other', auth_signature: good }), APP, 0, 0) ?? '', /auth_key/);
    assert.ok(signatureProblem(request(base), APP, 0, 0));
    assert.ok(signatureProblem(request({ ...base, auth_signature: good.toUpperCase() }), APP, 0, 0));
  });

  it('signatureProblem accepts the path signed without or with the server prefix, encoded or decoded', () => {
    const sign = (path: string) => {
      const query = params({ auth_key: KEY, auth_timestamp: String(TIMESTAMP), auth_version: '1.0' });
      query.set('auth_signature', hmacHex(SECRET, apiStringToSign('GET', path, query, undefined)));
      return query;
    };
    const request = (query: Map<string, string>) => ({
      method: 'GET',
      path: '/apps/3/channels/a%3Bb',
      prefixedPath: '/ws/apps/3/channels/a%3Bb',
      params: query,
      body: Buffer.alloc(0),
    });
    for (const signed of ['/apps/3/channels/a%3Bb', '/apps/3/channels/a;b', '/ws/apps/3/channels/a%3Bb', '/ws/apps/3/channels/a;b']) {
      assert.equal(signatureProblem(request(sign(signed)), APP, 0, 0), undefined, signed);
    }
    assert.ok(signatureProblem(request(sign('/other/apps/3/channels/a;b')), APP, 0, 0));
    assert.ok(signatureProblem({ ...request(sign('/ws/apps/3/channels/a;b')), prefixedPath: undefined }, APP, 0, 0));
  });

  it('signatureProblem names a body_md5 that does not match the body', () => {
    const query = params({ auth_key: KEY, auth_timestamp: String(TIMESTAMP), auth_version: '1.0', body_md5: md5Hex('{}') });
    const problem = signatureProblem({ method: 'POST', path: '/apps/3/events', params: query, body: Buffer.from(body) }, APP, 0, 0);
    assert.match(problem ?? '', /body_md5/);
  });

  it('parseQuery decodes values the way both SDKs sign them', () => {
    const query = parseQuery('info=user_count%2Csubscription_count&filter_by_prefix=presence-&a=1&a=2&empty=');
    assert.equal(query.get('info'), 'user_count,subscription_count');
    assert.equal(query.get('filter_by_prefix'), 'presence-');
    assert.equal(query.get('a'), '2');
    assert.equal(query.get('empty'), '');
  });
});

describe('channel and user auth signatures (protocol.md §2 vectors)', () => {
  const socketId = '1234.1234';

  it('private channel', () => {
    const toSign = channelStringToSign(socketId, 'private-foobar');
    assert.equal(toSign, '1234.1234:private-foobar');
    const auth = `${KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4`;
    assert.equal(`${KEY}:${hmacHex(SECRET, toSign)}`, auth);
    assert.equal(verifyAuth(auth, KEY, SECRET, toSign), true);
  });

  it('presence channel signs channel_data exactly as sent', () => {
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}';
    const toSign = channelStringToSign(socketId, 'presence-foobar', channelData);
    const auth = `${KEY}:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80`;
    assert.equal(verifyAuth(auth, KEY, SECRET, toSign), true);
    const reordered = '{"user_info":{"name":"Mr. Channels"},"user_id":10}';
    assert.equal(verifyAuth(auth, KEY, SECRET, channelStringToSign(socketId, 'presence-foobar', reordered)), false);
  });

  it('user authentication (pusher:signin)', () => {
    const userData = '{"id":"12345","user_info":{"name":"Ada"}}';
    const toSign = userStringToSign(socketId, userData);
    assert.equal(toSign, `1234.1234::user::${userData}`);
    const auth = `${KEY}:76924b7e2308132ecc83bf364be36900affb9c4816f5fb437f5ed0f36f88cb13`;
    assert.equal(verifyAuth(auth, KEY, SECRET, toSign), true);
  });

  it('verifyAuth requires the key part, the colon and a string', () => {
    const toSign = channelStringToSign(socketId, 'private-foobar');
    const hex = '58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4';
    assert.equal(verifyAuth(`other-key:${hex}`, KEY, SECRET, toSign), false);
    assert.equal(verifyAuth(hex, KEY, SECRET, toSign), false);
    assert.equal(verifyAuth(`${KEY}:`, KEY, SECRET, toSign), false);
    assert.equal(verifyAuth(undefined, KEY, SECRET, toSign), false);
    assert.equal(verifyAuth(null, KEY, SECRET, toSign), false);
    assert.equal(verifyAuth({ auth: hex }, KEY, SECRET, toSign), false);
  });

  it('safeEqual compares whole strings of any length', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', ''), true);
    assert.equal(safeEqual('é', 'e'), false);
  });
});
