/**
 * api: the HTTP API alone. `concurrency` keep-alive connections POST
 * /events (to a channel nobody is subscribed to) back to back: accepted
 * events/s and the request latency as the client sees it.
 */
import { latencyMs, measured } from '../lib/measure.mjs';
import { Histogram } from '../lib/histogram.mjs';

export default {
  name: 'api',
  summary: 'POST /events back to back on keep-alive connections: accepted events/s, request latency',
  defaults: { concurrency: 8, duration: 10, payload: 100 },
  metrics: [
    { key: 'perSecond', label: 'events/s accepted', digits: 0, better: 'higher' },
    { key: 'p50', label: 'p50 ms', digits: 2, better: 'lower' },
    { key: 'p99', label: 'p99 ms', digits: 2, better: 'lower' },
    { key: 'cpuPerThousand', label: 'server CPU ms / 1000 requests', digits: 1, better: 'lower' },
    { key: 'failed', label: 'failed', digits: 0 },
  ],
  async run({ target, pool, options, log }) {
    const run = await measured(target, () =>
      pool.publish(target, {
        rate: 'max',
        durationMs: options.duration * 1000,
        concurrency: options.concurrency,
        channels: ['api-bench'],
        batchSize: 0,
        payloadBytes: options.payload,
      }),
    );
    const published = run.result;
    const histogram = new Histogram();
    histogram.merge(published.apiLatency);
    const latency = latencyMs(histogram);
    log(`${published.accepted} accepted, ${published.failed} failed in ${published.seconds.toFixed(1)} s`);
    return {
      perSecond: published.accepted / published.seconds,
      p50: latency.p50,
      p99: latency.p99,
      cpuPerThousand: (run.serverCpu / (published.accepted + published.failed)) * 1e6,
      failed: published.failed,
      errors: published.errors,
    };
  },
};
