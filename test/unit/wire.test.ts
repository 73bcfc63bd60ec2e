import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidMessage,
  MAX_JSON_DEPTH,
  clientEventFrame,
  connectionEstablishedFrame,
  encodeFrame,
  errorFrame,
  nestedTooDeeply,
  parseInbound,
  subscriptionErrorFrame,
} from '../../src/protocol/wire.js';

describe('wire format', () => {
  it('encodes connection_established with a JSON-string data in Reverb key order', () => {
    assert.equal(
      connectionEstablishedFrame('123.456', 30),
      '{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"123.456\\",\\"activity_timeout\\":30}"}',
    );
  });

  it('encodes error frames with code before message', () => {
    assert.equal(
      errorFrame({ code: 4009, message: 'Connection is unauthorized' }),
      '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"Connection is unauthorized\\"}"}',
    );
  });

  it('omits data and channel when absent', () => {
    assert.equal(encodeFrame('pusher:foo'), '{"event":"pusher:foo"}');
    assert.equal(encodeFrame('e', '{}', 'c'), '{"event":"e","data":"{}","channel":"c"}');
  });

  it('relays client events as event, channel, data, user_id', () => {
    assert.equal(clientEventFrame('client-x', 'private-a', { a: 1 }, '"7"'), '{"event":"client-x","channel":"private-a","data":{"a":1},"user_id":"7"}');
    assert.equal(clientEventFrame('client-x', 'private-a', undefined), '{"event":"client-x","channel":"private-a"}');
  });

  it('decodes data sent as a JSON string, keeps plain strings', () => {
    assert.deepEqual(parseInbound('{"event":"pusher:subscribe","data":"{\\"channel\\":\\"a\\"}"}').data, { channel: 'a' });
    assert.equal(parseInbound('{"event":"client-a","data":"hello"}').data, 'hello');
  });

  it('rejects frames that are not objects with a string event', () => {
    for (const text of ['Hi', '[]', 'null', '{"event":[]}', '{"event":""}', '{}', '1']) {
      assert.throws(() => parseInbound(text), InvalidMessage, text);
    }
  });

  it('measures nesting outside strings only, and refuses frames nested too deeply before parsing', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    assert.equal(nestedTooDeeply(nested(MAX_JSON_DEPTH)), false);
    assert.equal(nestedTooDeeply(nested(MAX_JSON_DEPTH + 1)), true);
    assert.equal(nestedTooDeeply(JSON.stringify({ s: '[[[[\\"[[[[' })), false);
    assert.equal(nestedTooDeeply(JSON.stringify({ s: '"\\' }) + nested(3)), false);
    const deep = `{"event":"client-x","channel":"private-a","data":${nested(5000)}}`;
    assert.throws(() => parseInbound(deep), InvalidMessage);
    // A deep payload sent as a JSON string stays a string (relayed as sent, never re-encoded deeply).
    assert.equal(parseInbound(JSON.stringify({ event: 'client-x', data: nested(5000) })).data, nested(5000));
  });

  it("encodes subscription errors in soketi's shape with the channel", () => {
    assert.equal(
      subscriptionErrorFrame('presence-a', 'LimitReached', 'full', 4100),
      '{"event":"pusher:subscription_error","data":"{\\"type\\":\\"LimitReached\\",\\"error\\":\\"full\\",\\"status\\":4100}","channel":"presence-a"}',
    );
  });
});
