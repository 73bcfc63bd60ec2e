/**
 * Attacks on the server's output (issue 14): a client that asks for replies
 * faster than it reads them. Before the hardening, a `pusher:ping` flood from
 * a client that never read grew the ws server to 4.4 GB, and re-subscribing
 * to a large presence channel in a loop reached ~0.9 GB that was never given
 * back. Now every queued byte counts against `max_buffered_output` and every
 * inbound message against `max_messages_per_second`: the attacker is closed,
 * memory stays bounded, and a canary client on the same server does not notice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTACK_BYTES_PER_SECOND,
  FLOOD_RSS_MIB,
  SLOW_READER,
  SLOW_READER_FRAME,
  TOO_FAST,
  TOO_FAST_FRAME,
  UNTHROTTLED_APP,
  attackScene,
  assertCanaryUnaffected,
  errorFrameText,
  floodUntilClosed,
  joinPresence,
  pingFrame,
  repeated,
  subscribeMessage,
  textFrame,
  waitUntil,
} from '../helpers/attack.js';
import { DEFAULT_APP } from '../helpers/server.js';

const RATE_LIMITED = errorFrameText(4301, 'Rate limit exceeded: more than 200 messages per second; messages are dropped.');

const PUSHER_PING = textFrame('{"event":"pusher:ping"}');
/** The largest control frame: its pong is as large. */
const CONTROL_PING = pingFrame('p'.repeat(125));
/** A subscribe refused with a 4200 error that quotes the ~9 KB channel name back. */
const LONG_NAME_SUBSCRIBE = textFrame(JSON.stringify({ event: 'pusher:subscribe', data: { channel: '!'.repeat(9000) } }));

describe('attack: replies to a client that never reads', () => {
  for (const [name, frame] of [
    ['pusher:ping', PUSHER_PING],
    ['WebSocket ping control frame', CONTROL_PING],
  ] as const) {
    it(`a ${name} flood with the default limits, going on after the close: the attacker is closed and cut off, memory bounded, the canary unaffected`, async (t) => {
      const scene = await attackScene(t);
      const attacker = await scene.rawSocket();
      const start = performance.now();
      // The attacker ignores the close and never reads it: the server must still let go of the socket
      // (ws: 2 s after the close frame), and what still arrives meanwhile must cost next to nothing.
      const closedAfter = await floodUntilClosed(scene, attacker, repeated(frame), { maxMs: 6000, bytesPerSecond: ATTACK_BYTES_PER_SECOND, ignoreClose: true });
      assert.ok(attacker.isClosed || (await attacker.waitForCut(1000)), 'the server never cut the TCP connection of the non-reading attacker');
      const cutAfter = attacker.closedAt! - start;
      const { canary, rss } = await scene.finish();
      t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms, TCP cut after ${Math.round(cutAfter)} ms`);
      assert.ok(closedAfter < 2000, `closed only after ${closedAfter} ms`);
      assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
      assertCanaryUnaffected(canary);
    });
  }

  it('the message rate limit answers the flood once with 4301, then closes it with 4100', async (t) => {
    const scene = await attackScene(t);
    const attacker = await scene.rawSocket();
    await floodUntilClosed(scene, attacker, repeated(PUSHER_PING));
    const { texts, close } = await attacker.readToEnd(5000);
    const { canary } = await scene.finish();
    // 200 messages pass per second: 199 pings after the subscribe, or 200 if the second turned in between.
    const pongs = texts.filter((text) => text === '{"event":"pusher:pong"}').length;
    assert.ok(pongs === 199 || pongs === 200, `${pongs} pongs`);
    assert.deepEqual(texts.slice(-2), [RATE_LIMITED, TOO_FAST_FRAME]);
    assert.deepEqual(close, TOO_FAST);
    assertCanaryUnaffected(canary);
  });

  /*
   * With the message rate out of the way, only max_buffered_output stops a
   * non-reader, and only once the kernel's socket buffers (~4 MB on loopback)
   * are full too. Large replies get there in a few hundred messages; 23-byte
   * pusher:pong replies would take ~200 000 and seconds of a saturated CPU that
   * would disturb the tests running alongside, so they are not flooded here
   * (every text reply takes the same path as these error replies).
   */
  for (const [name, frame] of [
    ['WebSocket pings (127-byte pongs, answered by the WebSocket library)', CONTROL_PING],
    ['subscribes refused with a 4200 error quoting a 9 KB channel name', LONG_NAME_SUBSCRIBE],
  ] as const) {
    it(`replies count against max_buffered_output: ${name}, rate limit out of the way: closed with 4100, memory bounded`, async (t) => {
      const scene = await attackScene(t, { apps: [UNTHROTTLED_APP] });
      const attacker = await scene.rawSocket(UNTHROTTLED_APP);
      const closedAfter = await floodUntilClosed(scene, attacker, repeated(frame), { app: UNTHROTTLED_APP });
      const { texts, close } = await attacker.readToEnd(5000);
      const { canary, rss } = await scene.finish();
      t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms, ${texts.length} text replies were queued`);
      if (scene.server.transport === 'ws' && frame === CONTROL_PING) {
        // The ws library resets a peer with more than 60 pongs it could not write yet
        // (its maxPendingAutoPongs), before the server's own bound: no close frame then.
        assert.equal(close, undefined, `ws closed with ${JSON.stringify(close)}`);
      } else {
        assert.equal(texts.at(-1), SLOW_READER_FRAME);
        assert.deepEqual(close, SLOW_READER);
      }
      assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
      assertCanaryUnaffected(canary);
    });
  }
});

describe('attack: re-subscribing to a large presence channel without reading', () => {
  /** Just under the default 1024-byte user_info limit: every subscription_succeeded is ~100 KB. */
  const userInfo = (id: number) => ({ name: `member ${id}`, bio: 'b'.repeat(880) });
  const CHANNEL = 'presence-large';

  it('100 members of ~900 bytes: the attacker is closed, memory bounded and given back after it leaves', async (t) => {
    const scene = await attackScene(t);
    // 99 well-behaved members that read (and drop) what they get, then the attacker as the 100th.
    await joinPresence(scene, { channel: CHANNEL, count: 99, prefix: 'm', userInfo });
    const attacker = await scene.rawSocket();
    const join = subscribeMessage(attacker.socketId, CHANNEL, DEFAULT_APP, { user_id: 'attacker', user_info: userInfo(999) });
    attacker.sendText(join);
    await waitUntil('100 members joined', async () => (await scene.subscribers(CHANNEL)) === 100, { timeoutMs: 5000 });
    const joinedRss = scene.rss.sample();

    // Each repeat of the subscribe is answered with the whole member list again (~100 KB): the
    // output bound trips after a few dozen, well within the default message rate.
    const closedAfter = await floodUntilClosed(scene, attacker, repeated(textFrame(join)), { channel: CHANNEL, subscribed: true });
    const { texts, close } = await attacker.readToEnd(5000);
    // Memory after the attacker is gone: back near where it was with the members joined.
    const afterRss = scene.rss.sample();
    const { canary, rss } = await scene.finish();
    t.diagnostic(
      `[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms; ${texts.length} frames queued; ` +
        `RSS joined ${joinedRss.toFixed(1)} MiB, after ${afterRss.toFixed(1)} MiB`,
    );
    assert.equal(texts.at(-1), SLOW_READER_FRAME);
    assert.deepEqual(close, SLOW_READER);
    assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB (it was ~0.9 GB)`);
    // Measured: 1-4 MiB above (it was 1.18 GB after the attacker left).
    assert.ok(afterRss - joinedRss < 32, `RSS stayed ${afterRss - joinedRss} MiB above its level before the attack`);
    assertCanaryUnaffected(canary);
  });
});
