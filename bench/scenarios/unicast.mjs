/**
 * unicast: N connections, each alone on its own channel; the HTTP API sends
 * batch_events (default 10 events to 10 different channels per request) as
 * fast as the subscribers keep up. Measures delivered msgs/s, server CPU per
 * delivery and the end-to-end latency under that load.
 */
import { cpuPerMillion, drained, latencyMs, measured } from '../lib/measure.mjs';
import { COLUMNS } from '../lib/report.mjs';

export default {
  name: 'unicast',
  summary: 'N connections on N channels, batch_events at max rate: delivered msgs/s, CPU per delivery, latency',
  defaults: { connections: 1000, batch: 10, duration: 10, payload: 100, publishers: 4, outstanding: 2000 },
  metrics: [
    COLUMNS.delivered,
    { key: 'apiPerSecond', label: 'API requests/s', digits: 0, better: 'higher' },
    COLUMNS.cpuPerMillion,
    COLUMNS.p50,
    COLUMNS.p99,
    COLUMNS.missing,
  ],
  async run({ target, pool, options, log }) {
    const n = options.connections;
    const setup = await pool.connect(target, n, { plan: { prefix: 'unicast-' } });
    if (setup.ready < n) log(`only ${setup.ready}/${n} subscribed: ${setup.errors.join('; ')}`);
    await pool.reset();
    const run = await measured(target, async () => {
      const published = await pool.publish(target, {
        rate: 'max',
        durationMs: options.duration * 1000,
        concurrency: options.publishers,
        channels: Array.from({ length: n }, (_, index) => `unicast-${index}`),
        batchSize: options.batch,
        payloadBytes: options.payload,
        deliveriesPerEvent: 1,
        maxOutstanding: options.outstanding,
      });
      return { published, stats: await drained(pool, published.accepted) };
    });
    const { published, stats } = run.result;
    const latency = latencyMs(stats.latency);
    log(`${Math.round(stats.received / run.seconds)} msgs/s, ${cpuPerMillion(run.serverCpu, stats.received).toFixed(2)} server CPU s/M`);
    return {
      perSecond: stats.received / run.seconds,
      apiPerSecond: published.accepted / options.batch / run.seconds,
      cpuPerMillion: cpuPerMillion(run.serverCpu, stats.received),
      p50: latency.p50,
      p99: latency.p99,
      missing: published.accepted - stats.received,
      errors: [...setup.errors, ...published.errors, ...stats.errors],
    };
  },
};
