/**
 * presence: `members` clients join one presence channel at once, while a
 * canary client on another channel gets an event every 100 ms and /up is
 * asked every 100 ms. By protocol every join is announced to every member
 * already there (member_added), so a burst of N joins costs about N²/2
 * frames; the server's cap on members per channel
 * (`max_presence_members_per_channel`, 100 by default, raised with
 * `--cap`, or to `members` when that is larger) is what bounds it.
 *
 * Reports the time until every member was subscribed, the member frames
 * delivered (against the J(J-1)/2 of one member_added per earlier member,
 * for the J that joined),
 * the server's CPU and peak RSS over the burst, the canary's p50/p99 and
 * missing events, and how /up answered.
 */
import { UP, startApiTraffic } from '../lib/api-traffic.mjs';
import { Histogram } from '../lib/histogram.mjs';
import { drained, latencyMs, measured } from '../lib/measure.mjs';
import { peakSampler } from '../lib/proc.mjs';
import { Session, emptyTally } from '../lib/session.mjs';
import { sleep } from '../lib/clock.mjs';

const MB = 2 ** 20;
const CHANNEL = 'presence-burst';
const CANARY = 'canary';
/** The server's default cap (Pusher's); larger bursts raise it. */
const DEFAULT_CAP = 100;
/** Joins in flight per worker: all of a burst up to this, beyond it the server's accept rate sets the pace anyway. */
const IN_FLIGHT = 500;

/** The canary: one client in this process (not in a worker busy counting member frames), so its latency is the server's. */
async function startCanary(target) {
  const latency = new Histogram();
  const session = new Session(target, { index: 0, channels: [CANARY], tally: emptyTally(), latency });
  await session.ready;
  return { session, latency };
}

export default {
  name: 'presence',
  summary:
    'N members join one presence channel at once, a canary on another channel gets 10 events/s: join time, member frames, server CPU and peak RSS, canary p50/p99, /up',
  defaults: { members: 100, rate: 10 },
  settings: (options) => {
    const cap = options.cap ?? (options.members > DEFAULT_CAP ? options.members : undefined);
    return cap === undefined ? {} : { maxPresenceMembers: cap };
  },
  metrics: [
    { key: 'joined', label: 'members joined', digits: 0 },
    { key: 'refused', label: 'refused', digits: 0 },
    { key: 'joinSeconds', label: 'join time s', digits: 2, better: 'lower' },
    { key: 'frames', label: 'member frames delivered', digits: 0 },
    { key: 'expectedFrames', label: 'J(J-1)/2 for J joined', digits: 0 },
    { key: 'burstSeconds', label: 'all delivered after s', digits: 2, better: 'lower' },
    { key: 'dropped', label: 'members dropped', digits: 0 },
    { key: 'serverCpu', label: 'server CPU s', digits: 2, better: 'lower' },
    { key: 'rssPeak', label: 'server RSS peak MB', digits: 1, better: 'lower' },
    { key: 'canaryP50', label: 'canary p50 ms', digits: 2, better: 'lower' },
    { key: 'canaryP99', label: 'canary p99 ms', digits: 2, better: 'lower' },
    { key: 'canaryMissing', label: 'canary events missing', digits: 0 },
    { key: 'canaryFailed', label: 'canary API requests failed', digits: 0 },
    { key: 'upSent', label: '/up asked', digits: 0 },
    { key: 'upFailed', label: '/up failed', digits: 0 },
    { key: 'upMax', label: '/up max ms', digits: 1, better: 'lower' },
  ],
  async run({ target, pool, options, log }) {
    const n = options.members;
    const canary = await startCanary(target);
    const up = startApiTraffic([target], { calls: UP, rate: 10, timeoutMs: 2000 });
    const stopCanary = pool.publishInBackground(target, { rate: options.rate, channels: [CANARY] });
    // A quiet warm-up, not counted: the canary's figures are those of the burst and the second after it.
    await sleep(2000);
    canary.latency = new Histogram();
    canary.session.latency = canary.latency;
    const peak = peakSampler(target.pid);
    const burst = await measured(target, async () => {
      const joins = await pool.connect(target, n, {
        plan: { name: CHANNEL },
        sampleEvery: n + 1,
        inFlight: Math.min(IN_FLIGHT, n),
        timeoutMs: 300_000,
      });
      log(`${joins.ready} joined, ${joins.failed} refused or failed in ${joins.seconds.toFixed(2)} s; waiting for the member frames`);
      // One member_added per earlier member, to each of those who joined (a refused join announces nothing).
      const expectedFrames = (joins.ready * (joins.ready - 1)) / 2;
      const stats = await drained(pool, expectedFrames, { quietMs: 3000, timeoutMs: 600_000 });
      return { joins, stats, expectedFrames };
    });
    const { joins, stats, expectedFrames } = burst.result;
    const published = await stopCanary();
    await sleep(1000);
    const peaks = peak();
    const upResult = await up();
    canary.session.close();
    const canaryLatency = latencyMs(canary.latency);
    const canaryReceived = canary.session.channels.get(CANARY).received;
    log(
      `${stats.received} member frames (J(J-1)/2 = ${expectedFrames}) in ${burst.seconds.toFixed(1)} s; server CPU ${burst.serverCpu.toFixed(2)} s; ` +
        `canary p50 ${canaryLatency.p50.toFixed(2)} ms, p99 ${canaryLatency.p99.toFixed(2)} ms, max ${canaryLatency.max.toFixed(1)} ms; ` +
        `/up ${upResult.ok}/${upResult.sent} answered 200`,
    );
    return {
      joined: joins.ready,
      refused: joins.failed,
      joinSeconds: joins.seconds,
      frames: stats.received,
      expectedFrames,
      burstSeconds: burst.seconds,
      dropped: stats.lost,
      serverCpu: burst.serverCpu,
      serverCpuShare: burst.serverCpu / burst.seconds,
      rssPeak: peaks.rss / MB,
      canaryP50: canaryLatency.p50,
      canaryP99: canaryLatency.p99,
      canaryMax: canaryLatency.max,
      // Sent, not accepted: a request that timed out may still have been published.
      canaryMissing: published.sentEvents - canaryReceived,
      canaryFailed: published.failed,
      upSent: upResult.sent,
      upFailed: upResult.failed,
      upMax: upResult.byCall[UP[0].name].max,
      errors: [...joins.errors, ...stats.errors, ...published.errors],
    };
  },
};
