import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionRateLimiter, clientAddress } from '../../src/protocol/client-address.js';

const request = (remoteAddress: string, forwardedFor?: string) => ({ appKey: 'k', origin: undefined, remoteAddress, forwardedFor });

describe('client address', () => {
  it('is the peer unless the peer is a trusted proxy', () => {
    assert.equal(clientAddress(request('::ffff:10.0.0.5', '1.2.3.4'), []), '10.0.0.5');
    assert.equal(clientAddress(request('10.0.0.5', '1.2.3.4'), ['127.0.0.1']), '10.0.0.5');
    assert.equal(clientAddress(request('::ffff:127.0.0.1', '1.2.3.4'), ['127.0.0.1']), '1.2.3.4');
    assert.equal(clientAddress(request('10.0.0.5', '1.2.3.4'), ['*']), '1.2.3.4');
  });

  it('takes the entry the proxy appended, never what the client wrote before it', () => {
    assert.equal(clientAddress(request('127.0.0.1', 'forged, 6.6.6.6, 1.2.3.4'), ['127.0.0.1']), '1.2.3.4');
    assert.equal(clientAddress(request('127.0.0.1', ' '), ['127.0.0.1']), '127.0.0.1');
    assert.equal(clientAddress(request('127.0.0.1'), ['127.0.0.1']), '127.0.0.1');
  });
});

describe('ConnectionRateLimiter', () => {
  it('allows `limit` new connections per address per second', () => {
    const limiter = new ConnectionRateLimiter(2);
    assert.deepEqual([1, 2, 3].map(() => limiter.allow('a', 1000)), [true, true, false]);
    assert.equal(limiter.allow('b', 1500), true);
    assert.equal(limiter.allow('a', 1999), false);
    assert.equal(limiter.allow('a', 2000), true);
  });
});
