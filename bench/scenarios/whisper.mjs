/**
 * whisper: N connections in presence channels of `group` members each; every
 * connection sends client events (`client-bench`) at `rate` per second, which
 * the server relays to the other members. Measures delivered msgs/s, the
 * end-to-end latency and server CPU per delivery.
 */
import { cpuPerMillion, drained, latencyMs, measured } from '../lib/measure.mjs';
import { COLUMNS } from '../lib/report.mjs';

export default {
  name: 'whisper',
  summary: 'client events on presence channels (groups of G): delivered msgs/s, latency, CPU per delivery',
  defaults: { connections: 1000, group: 10, rate: 2, duration: 10, payload: 100 },
  metrics: [
    COLUMNS.delivered,
    COLUMNS.cpuPerMillion,
    COLUMNS.p50,
    COLUMNS.p99,
    { key: 'max', label: 'max ms', digits: 1, better: 'lower' },
    COLUMNS.missing,
  ],
  async run({ target, pool, options, log }) {
    const n = Math.floor(options.connections / options.group) * options.group;
    const setup = await pool.connect(target, n, { plan: { prefix: 'presence-bench-', divisor: options.group } });
    if (setup.ready < n) log(`only ${setup.ready}/${n} subscribed: ${setup.errors.join('; ')}`);
    await pool.reset();
    const run = await measured(target, async () => {
      const sent = await pool.all('whisper', () => ({ rate: options.rate, durationMs: options.duration * 1000, payloadBytes: options.payload }));
      const whispers = sent.reduce((total, result) => total + result.sent, 0);
      return { whispers, stats: await drained(pool, whispers * (options.group - 1)) };
    });
    const { whispers, stats } = run.result;
    const latency = latencyMs(stats.latency);
    log(`${whispers} client events sent, ${Math.round(stats.received / run.seconds)} deliveries/s`);
    return {
      perSecond: stats.received / run.seconds,
      cpuPerMillion: cpuPerMillion(run.serverCpu, stats.received),
      p50: latency.p50,
      p99: latency.p99,
      max: latency.max,
      missing: whispers * (options.group - 1) - stats.received,
      errors: [...setup.errors, ...stats.errors],
    };
  },
};
