import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { formatAddress } from '../../src/transport/uws-address.js';

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('remote addresses from uWS, printed like Node', () => {
  it('prints IPv4 dotted, and IPv4 on a dual-stack listener as ::ffff:a.b.c.d', () => {
    assert.equal(formatAddress(bytes('7f000001')), '127.0.0.1');
    assert.equal(formatAddress(bytes('00000000000000000000ffff7f000001')), '::ffff:127.0.0.1');
  });

  it('compresses the longest run of zero groups', () => {
    assert.equal(formatAddress(bytes('00000000000000000000000000000001')), '::1');
    assert.equal(formatAddress(bytes('00000000000000000000000000000000')), '::');
    assert.equal(formatAddress(bytes('20010db8000000000001000000000001')), '2001:db8::1:0:0:1');
    assert.equal(formatAddress(bytes('fe800000000000000202b3fffe1e8329')), 'fe80::202:b3ff:fe1e:8329');
    assert.equal(formatAddress(bytes('20010db8000100000001000100010001')), '2001:db8:1:0:1:1:1:1');
  });

  it('always yields an address Node accepts', () => {
    for (let i = 0; i < 200; i++) {
      const raw = Uint8Array.from({ length: 16 }, () => (Math.random() < 0.5 ? 0 : Math.floor(Math.random() * 256)));
      assert.equal(isIP(formatAddress(raw)), 6, formatAddress(raw));
    }
  });
});
