/**
 * slow: N subscribers on one channel, of which S stop reading right after
 * they subscribed (their TCP receive windows fill, then the server's own
 * buffers), while events of `payload` bytes go out at `rate`/s for
 * `duration` s. A server that bounds what it buffers per client keeps its
 * memory flat and lets go of the stalled clients; the readers must get
 * every event, on time, regardless.
 */
import { sleep } from '../lib/clock.mjs';
import { ApiClient } from '../lib/api-client.mjs';
import { drained, latencyMs } from '../lib/measure.mjs';
import { shareOf } from '../lib/pool.mjs';
import { peakSampler, rssBytes } from '../lib/proc.mjs';

const MB = 2 ** 20;
const CHANNEL = 'slow';

/** The channel's subscription_count from the server's HTTP API (standard Pusher channel info). */
async function subscriptionCount(target) {
  const api = new ApiClient(target);
  try {
    const response = await api.call('GET', `/channels/${CHANNEL}`, { query: { info: 'subscription_count' } });
    return response.status === 200 ? (JSON.parse(response.body).subscription_count ?? 0) : NaN;
  } finally {
    api.close();
  }
}

export default {
  name: 'slow',
  summary: 'S subscribers stop reading among N: server RSS growth, stalled clients still subscribed, the readers’ deliveries and p99',
  defaults: { connections: 300, stalled: 50, rate: 100, duration: 20, payload: 8000 },
  metrics: [
    { key: 'sentPerStalled', label: 'MB published per stalled client', digits: 1 },
    { key: 'rssGrowthPeak', label: 'server RSS growth MB, peak', digits: 1, better: 'lower' },
    { key: 'peakPerStalled', label: 'peak growth MB per stalled client', digits: 2, better: 'lower' },
    { key: 'rssGrowthEnd', label: 'server RSS growth MB, end', digits: 1, better: 'lower' },
    { key: 'stillSubscribed', label: 'stalled clients still subscribed', digits: 0 },
    { key: 'p99', label: 'readers p99 ms', digits: 1, better: 'lower' },
    { key: 'missing', label: 'readers missing msgs', digits: 0, better: 'lower' },
  ],
  async run({ target, pool, options, log }) {
    const n = options.connections;
    const stalled = Math.min(options.stalled, n - 1);
    const setup = await pool.connect(target, n, { plan: { name: CHANNEL }, sampleEvery: Math.max(1, Math.floor(n / 100)) });
    if (setup.ready < n) log(`only ${setup.ready}/${n} subscribed: ${setup.errors.join('; ')}`);
    const workers = pool.workers.length;
    const paused = await pool.all('stall', (worker) => ({
      count: shareOf(stalled, workers, worker.number),
    }));
    const stalledCount = paused.reduce((total, result) => total + result.stalled, 0);
    const readers = setup.ready - stalledCount;
    await pool.reset();
    const before = target.pid ? rssBytes(target.pid) : NaN;
    const peak = peakSampler(target.pid);
    const published = await pool.publish(target, {
      rate: options.rate,
      durationMs: options.duration * 1000,
      concurrency: 1,
      channels: [CHANNEL],
      batchSize: 0,
      payloadBytes: options.payload,
      deliveriesPerEvent: readers,
      maxOutstanding: 0,
    });
    const stats = await drained(pool, published.accepted * readers);
    // What the server still holds a moment later, once any drop it decided on took effect.
    await sleep(1000);
    const rssPeakBytes = peak().rss;
    const after = target.pid ? rssBytes(target.pid) : NaN;
    const subscribed = await subscriptionCount(target);
    log(
      `${stalledCount} stalled, ${readers} reading; RSS ${(before / MB).toFixed(0)} → peak ${(rssPeakBytes / MB).toFixed(0)} → ${(after / MB).toFixed(0)} MB; ` +
        `subscription_count ${subscribed}`,
    );
    return {
      sentPerStalled: (published.accepted * options.payload) / MB,
      rssGrowthPeak: (rssPeakBytes - before) / MB,
      peakPerStalled: (rssPeakBytes - before) / MB / stalledCount,
      rssGrowthEnd: (after - before) / MB,
      stillSubscribed: subscribed - readers,
      p99: latencyMs(stats.latency).p99,
      missing: published.accepted * readers - stats.received,
      errors: [...setup.errors, ...published.errors, ...stats.errors],
    };
  },
};
