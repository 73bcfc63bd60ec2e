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
import { attackScene, assertCanaryUnaffected, floodUntilClosed, pingFrame, repeated, subscribeMessage, textFrame } from '../helpers/attack.js';
import { DEFAULT_APP, type TestApp } from '../helpers/server.js';

/** Peak RSS growth allowed during a flood; measured: under 15 MiB on either transport (it was 4.4 GB). */
const FLOOD_RSS_MIB = 40;
/** Takes the per-second message limit out of the way, so that only the output bound stops a flood. */
const UNTHROTTLED: TestApp = { ...DEFAULT_APP, max_messages_per_second: 10_000_000 };
/**
 * With the message rate out of the way, a flood of `pusher:ping` costs the
 * server all the CPU it can get until the output bound trips (~200 000 pongs
 * fill the kernel buffers first): the canary then competes for the CPU, so it
 * gets a wider latency bound than under the default limits.
 */
const UNTHROTTLED_P99_MS = 2000;
const SLOW_READER = '{"event":"pusher:error","data":"{\\"code\\":4100,\\"message\\":\\"Over capacity: the client is not reading fast enough\\"}"}';
const TOO_FAST = '{"event":"pusher:error","data":"{\\"code\\":4100,\\"message\\":\\"Over capacity: the client sends messages too fast\\"}"}';
const RATE_LIMITED = '{"event":"pusher:error","data":"{\\"code\\":4301,\\"message\\":\\"Rate limit exceeded: more than 200 messages per second; messages are dropped.\\"}"}';

const PUSHER_PING = textFrame('{"event":"pusher:ping"}');
/** The largest control frame: its pong is as large. */
const CONTROL_PING = pingFrame('p'.repeat(125));

describe('attack: replies to a client that never reads', () => {
  for (const [name, frame] of [
    ['pusher:ping', PUSHER_PING],
    ['WebSocket ping control frame', CONTROL_PING],
  ] as const) {
    it(`a ${name} flood with the default limits: the attacker is closed and cut off, memory bounded, the canary unaffected`, async (t) => {
      const scene = await attackScene(t);
      const attacker = await scene.rawSocket();
      const start = performance.now();
      const closedAfter = await floodUntilClosed(scene, attacker, repeated(frame), { maxMs: 3000 });
      // The close frame is never read: the server must still let go of the socket (ws: 2 s after the close frame).
      assert.ok(await attacker.waitForCut(6000), 'the server never cut the TCP connection of the non-reading attacker');
      const cutAfter = attacker.closedAt! - start;
      const { canary, rss } = await scene.finish();
      t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms, TCP cut after ${Math.round(cutAfter)} ms`);
      assert.ok(closedAfter < 2000, `closed only after ${closedAfter} ms`);
      assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
      assertCanaryUnaffected(canary);
    });

    it(`a ${name} flood with the message rate out of the way: closed by max_buffered_output (4100), memory bounded`, async (t) => {
      const scene = await attackScene(t, { apps: [UNTHROTTLED] });
      const attacker = await scene.rawSocket(UNTHROTTLED);
      const closedAfter = await floodUntilClosed(scene, attacker, repeated(frame));
      const { texts, close } = await attacker.readToEnd(5000);
      const { canary, rss } = await scene.finish();
      t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms, ${texts.length} replies were queued`);
      if (scene.server.transport === 'ws' && frame === CONTROL_PING) {
        // The ws library resets a peer with more than 60 pongs it could not write yet
        // (its maxPendingAutoPongs), before the server's own bound: no close frame then.
        assert.equal(close, undefined, `ws closed with ${JSON.stringify(close)}`);
      } else {
        assert.equal(texts.at(-1), SLOW_READER);
        assert.deepEqual(close, { code: 4100, reason: 'Over capacity: the client is not reading fast enough' });
      }
      assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
      assertCanaryUnaffected(canary, { p99Ms: UNTHROTTLED_P99_MS });
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
    assert.deepEqual(texts.slice(-2), [RATE_LIMITED, TOO_FAST]);
    assert.deepEqual(close, { code: 4100, reason: 'Over capacity: the client sends messages too fast' });
    assertCanaryUnaffected(canary);
  });
});

describe('attack: re-subscribing to a large presence channel without reading', () => {
  /** Just under the default 1024-byte user_info limit: every subscription_succeeded is ~100 KB. */
  const userInfo = (id: number) => ({ name: `member ${id}`, bio: 'b'.repeat(880) });
  const CHANNEL = 'presence-large';

  it('100 members of ~900 bytes: the attacker is closed, memory bounded and given back after it leaves', async (t) => {
    const scene = await attackScene(t, { apps: [UNTHROTTLED] });
    // 99 well-behaved members that read (and drop) what they get, then the attacker as the 100th.
    const members = await Promise.all(Array.from({ length: 99 }, () => scene.rawSocket(UNTHROTTLED, { read: 'discard' })));
    members.forEach((member, i) => member.subscribe(CHANNEL, UNTHROTTLED, { user_id: `m${i}`, user_info: userInfo(i) }));
    const attacker = await scene.rawSocket(UNTHROTTLED);
    const join = subscribeMessage(attacker.socketId, CHANNEL, UNTHROTTLED, { user_id: 'attacker', user_info: userInfo(999) });
    attacker.sendText(join);
    await scene.waitUntil('100 members joined', async () => (await scene.subscribers(CHANNEL, UNTHROTTLED)) === 100, { timeoutMs: 5000 });
    const joinedRss = scene.rss.sample();

    // Each repeat of the subscribe is answered with the whole member list again.
    const closedAfter = await floodUntilClosed(scene, attacker, repeated(textFrame(join)), { channel: CHANNEL, app: UNTHROTTLED, subscribed: true });
    const { texts, close } = await attacker.readToEnd(5000);
    // Memory after the attacker is gone: back near where it was with the members joined.
    const afterRss = scene.rss.sample();
    const { canary, rss } = await scene.finish();
    t.diagnostic(
      `[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms; ${texts.length} frames queued; ` +
        `RSS joined ${joinedRss.toFixed(1)} MiB, after ${afterRss.toFixed(1)} MiB`,
    );
    assert.equal(texts.at(-1), SLOW_READER);
    assert.deepEqual(close, { code: 4100, reason: 'Over capacity: the client is not reading fast enough' });
    assert.ok(rss.growth < 64, `RSS grew by ${rss.growth} MiB (it was ~0.9 GB)`);
    assert.ok(afterRss - joinedRss < 32, `RSS stayed ${afterRss - joinedRss} MiB above its level before the attack`);
    assertCanaryUnaffected(canary);
  });
});
