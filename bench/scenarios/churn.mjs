/**
 * churn: a population of subscribed connections of which `churn-rate` per
 * second disconnect and are replaced by new ones (connect + subscribe), for
 * `duration` seconds. The server's RSS and open handles are sampled every
 * second; after everyone leaves, handles should fall back to the start.
 */
import { sleep } from '../lib/clock.mjs';
import { Histogram } from '../lib/histogram.mjs';
import { endpoint } from '../lib/pool.mjs';
import { sample } from '../lib/proc.mjs';

const MB = 2 ** 20;

export default {
  name: 'churn',
  summary: 'connect/subscribe/disconnect cycles: cycles/s, setup latency, server RSS and handles over time',
  defaults: { population: 1000, churnRate: 200, duration: 20 },
  metrics: [
    { key: 'cyclesPerSecond', label: 'cycles/s', digits: 0, better: 'higher' },
    { key: 'failed', label: 'failed', digits: 0 },
    { key: 'setupP99', label: 'setup p99 ms', digits: 1, better: 'lower' },
    { key: 'rssStart', label: 'RSS start MB', digits: 1 },
    { key: 'rssPeak', label: 'RSS peak MB', digits: 1, better: 'lower' },
    { key: 'rssAfter', label: 'RSS after MB', digits: 1, better: 'lower' },
    { key: 'handlesStart', label: 'handles start', digits: 0 },
    { key: 'handlesPeak', label: 'handles peak', digits: 0 },
    { key: 'handlesAfter', label: 'handles after all left', digits: 0 },
  ],
  async run({ target, pool, options, log }) {
    const plan = { prefix: 'churn-', modulo: 50 };
    const idle = sample(target.pid);
    await pool.connect(target, options.population, { plan });
    const start = sample(target.pid);
    const timeline = [start];
    const sampler = setInterval(() => timeline.push(sample(target.pid)), 1000);
    const workers = pool.workers.length;
    const results = await pool.all('churn', (worker) => ({
      target: endpoint(target),
      rate: options.churnRate / workers,
      durationMs: options.duration * 1000,
      plan,
      localAddresses: worker.localAddresses,
      // Numbers above the population's, distinct per worker.
      firstIndex: options.population + worker.number * 10_000_000,
    }));
    clearInterval(sampler);
    const end = sample(target.pid);
    await pool.all('closeAll');
    await sleep(2000);
    const after = sample(target.pid);
    const setup = new Histogram();
    for (const result of results) setup.merge(result.setup);
    const cycles = results.reduce((total, result) => total + result.cycles, 0);
    const seconds = Math.max(...results.map((result) => result.seconds));
    if (target.pid) {
      const every = Math.max(1, Math.floor(timeline.length / 5));
      const points = timeline.filter((_, index) => index % every === 0).concat(end);
      log(`RSS MB over time: ${points.map((point) => (point.rss / MB).toFixed(0)).join(' → ')}; handles: ${points.map((point) => point.handles).join(' → ')}`);
      log(`idle before: ${(idle.rss / MB).toFixed(1)} MB, ${idle.handles} handles; after all left: ${(after.rss / MB).toFixed(1)} MB, ${after.handles} handles`);
    }
    return {
      cyclesPerSecond: cycles / seconds,
      failed: results.reduce((total, result) => total + result.failed, 0),
      setupP99: setup.quantile(0.99) / 1000,
      rssStart: start.rss / MB,
      rssPeak: Math.max(...timeline.map((point) => point.rss)) / MB,
      rssAfter: after.rss / MB,
      handlesStart: start.handles,
      handlesPeak: Math.max(...timeline.map((point) => point.handles)),
      handlesAfter: after.handles,
      errors: results.flatMap((result) => result.errors),
    };
  },
};
