/**
 * Connection floods (issue 14): `max_connections_per_ip_per_second` (off by
 * default) refuses handshakes past the limit with pusher:error 4100 and close
 * 4100; behind a proxy the operator trusts, the last `X-Forwarded-For` entry
 * (the one the proxy appended) is the address counted, and from any other
 * peer the header is ignored, so a client cannot spoof its way around the limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLOOD_RSS_MIB, assertCanaryUnaffected, attackScene, type Scene } from '../helpers/attack.js';
import { DEFAULT_APP } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const LIMIT = 5;
/** Handshakes in the sustained flood, 10 in flight at a time (a few hundred a second on a quiet machine). */
const FLOOD = 100;
const REFUSED = '{"event":"pusher:error","data":"{\\"code\\":4100,\\"message\\":\\"Over capacity: too many new connections from this address\\"}"}';
const REFUSED_CLOSE = { code: 4100, reason: 'Over capacity: too many new connections from this address' };

/**
 * Opens a connection (with `X-Forwarded-For` when given) and reports whether
 * the server established it; a refused one must get exactly the 4100 frame
 * and close. Accepted ones stay open until the test ends.
 */
async function attempt(scene: Scene, forwardedFor?: string): Promise<boolean> {
  const client = scene.own(new RawClient(`${scene.server.wsUrl}/app/${DEFAULT_APP.key}`, forwardedFor ? { headers: { 'X-Forwarded-For': forwardedFor } } : {}));
  await client.open();
  const first = await client.nextRaw();
  if (first.startsWith('{"event":"pusher:connection_established"')) return true;
  assert.equal(first, REFUSED);
  assert.deepEqual(await client.waitForClose(), REFUSED_CLOSE);
  return false;
}

/** `count` attempts at once; resolves with how many were established. */
async function burst(scene: Scene, count: number, forwardedFor: (i: number) => string | undefined = () => undefined): Promise<number> {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => attempt(scene, forwardedFor(i))));
  return results.filter(Boolean).length;
}

/**
 * The limiter counts in fixed one-second windows shared by all addresses, and
 * the canary's own handshake opened one shortly before: a burst can straddle
 * two windows, so up to twice the limit may pass, never more.
 */
function assertLimited(accepted: number, what: string): void {
  assert.ok(accepted >= LIMIT - 1 && accepted <= 2 * LIMIT, `${accepted} of the ${what} were established`);
}

describe('attack: many new connections from one address', () => {
  it(`limit on (${LIMIT}/s): a burst of 20 is cut to the limit with 4100; of a flood of ${FLOOD} handshakes at most ${LIMIT} a second get through`, async (t) => {
    const scene = await attackScene(t, { server: { max_connections_per_ip_per_second: LIMIT } });
    assertLimited(await burst(scene, 20), 'burst of 20');

    // A sustained flood, 10 handshakes in flight at a time (light enough for a shared CI machine).
    const start = performance.now();
    let attempts = 0;
    let accepted = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (attempts < FLOOD) {
          attempts++;
          if (await attempt(scene)) accepted++;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const { canary, rss } = await scene.finish();
    t.diagnostic(`[${scene.server.transport}] flood: ${attempts} handshakes in ${seconds.toFixed(1)} s, ${accepted} established`);
    assert.ok(accepted <= LIMIT * (Math.ceil(seconds) + 1), `${accepted} established in ${seconds} s`);
    assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
    assertCanaryUnaffected(canary);
  });

  it('limit off (the default): a burst of 50 from one address is established', async (t) => {
    const scene = await attackScene(t);
    assert.equal(await burst(scene, 50), 50);
    const { canary } = await scene.finish();
    assertCanaryUnaffected(canary);
  });

  it('behind a trusted proxy: the last X-Forwarded-For entry is the address counted', async (t) => {
    const scene = await attackScene(t, { server: { max_connections_per_ip_per_second: LIMIT, trusted_proxies: ['127.0.0.1'] } });
    // 20 clients behind the proxy, each its own address: none is over the limit.
    assert.equal(await burst(scene, 20, (i) => `10.0.0.${i + 1}`), 20);
    // One client varying what it sends itself: the proxy's entry (last) is the same for all.
    assertLimited(await burst(scene, 20, (i) => `192.0.2.${i + 1}, 10.0.1.1`), 'spoofed burst of 20');
    const { canary } = await scene.finish();
    assertCanaryUnaffected(canary);
  });

  it('from a peer that is not a trusted proxy, X-Forwarded-For is ignored', async (t) => {
    const scene = await attackScene(t, { server: { max_connections_per_ip_per_second: LIMIT, trusted_proxies: ['10.255.255.1'] } });
    assertLimited(await burst(scene, 20, (i) => `10.0.0.${i + 1}`), 'burst of 20 with made-up addresses');
    const { canary } = await scene.finish();
    assertCanaryUnaffected(canary);
  });
});
