/**
 * fanout: N subscribers on one channel, events through the HTTP API. Phase 1
 * at a fixed rate (default 20 events/s) for the end-to-end latency; phase 2
 * as fast as the server delivers (publisher flow-controlled by what the
 * subscribers received) for the maximum delivered messages per second and
 * the server CPU time per million delivered messages.
 *
 * On a cluster target the subscribers go round-robin over its servers and
 * the events into the first one's API (A); the CPU figures sum every server,
 * Redis's come apart, and latency is also split into A's subscribers and
 * everybody else's (bench/scenarios/cluster.mjs shows those).
 */
import { Histogram } from '../lib/histogram.mjs';
import { cpuPerMillion, drained, latencyMs, measured } from '../lib/measure.mjs';
import { COLUMNS } from '../lib/report.mjs';

/** Latency is sampled on this many connections spread over the subscriber order. */
const SAMPLED_CONNECTIONS = 200;

/** p99 of the subscribers on the publishing server A, and of those on every other server (NaN for one server). */
function p99ByServer(serverLatency) {
  const others = new Histogram();
  for (const histogram of serverLatency.slice(1)) others.merge(histogram.toJSON());
  return { a: latencyMs(serverLatency[0] ?? new Histogram()).p99, others: latencyMs(others).p99 };
}

async function phase({ target, pool, options }, rate, subscribers) {
  await pool.reset();
  const clientCpuBefore = (await pool.stats()).cpuSeconds;
  const publishTo = target.servers?.[0] ?? target;
  // The window runs until the subscribers got everything, so that buffered writes count too.
  const run = await measured(target, async () => {
    const published = await pool.publish(publishTo, {
      rate,
      durationMs: options.duration * 1000,
      concurrency: rate === 'max' ? options.publishers : 1,
      channels: ['fanout'],
      batchSize: 0,
      payloadBytes: options.payload,
      deliveriesPerEvent: subscribers,
      maxOutstanding: rate === 'max' ? options.outstanding * subscribers : 0,
    });
    return { published, stats: await drained(pool, published.accepted * subscribers) };
  });
  const { published, stats } = run.result;
  return {
    events: published.accepted,
    failed: published.failed,
    delivered: stats.received,
    perSecond: stats.received / run.seconds,
    missing: published.accepted * subscribers - stats.received,
    cpuPerMillion: cpuPerMillion(run.serverCpu, stats.received),
    serverCpuShare: run.serverCpu / run.seconds,
    redisCpuPerMillion: cpuPerMillion(run.redisCpu, stats.received),
    redisCpuShare: run.redisCpu / run.seconds,
    clientCpuShare: (stats.cpuSeconds - clientCpuBefore) / run.seconds,
    latency: latencyMs(stats.latency),
    p99ByServer: p99ByServer(stats.serverLatency),
    lost: stats.lost,
    errors: [...published.errors, ...stats.errors],
  };
}

/** The fixed-rate latency columns, shared with the cluster scenario. */
export const LATENCY_AT_RATE = [
  { key: 'p50', label: 'p50 ms @rate', digits: 2, better: 'lower' },
  { key: 'p99', label: 'p99 ms @rate', digits: 2, better: 'lower' },
  { key: 'max', label: 'max ms @rate', digits: 1, better: 'lower' },
];

export default {
  name: 'fanout',
  summary: 'N subscribers on one channel: p50/p99/max latency at a fixed rate, then max delivered msgs/s and CPU per delivery',
  defaults: { connections: 1000, rate: 20, duration: 10, payload: 100, publishers: 8, outstanding: 64 },
  acceptsClusters: true,
  metrics: [
    ...LATENCY_AT_RATE,
    { key: 'maxPerSecond', label: 'max delivered msgs/s', digits: 0, better: 'higher' },
    COLUMNS.cpuPerMillion,
    { key: 'serverCpuShare', label: 'server CPU use at max', digits: 2 },
    { key: 'clientCpuShare', label: 'client CPU use at max', digits: 2 },
    { key: 'p99AtMax', label: 'p99 ms at max', digits: 1, better: 'lower' },
    COLUMNS.missing,
  ],
  async run(context) {
    const { target, pool, options, log } = context;
    const n = options.connections;
    const setup = await pool.connect(target.servers ?? target, n, { plan: { name: 'fanout' }, sampleEvery: Math.max(1, Math.floor(n / SAMPLED_CONNECTIONS)) });
    if (setup.ready < n) log(`only ${setup.ready}/${n} subscribed: ${setup.errors.join('; ')}`);
    const fixed = await phase(context, options.rate, setup.ready);
    log(`${options.rate}/s: p50 ${fixed.latency.p50.toFixed(2)} ms, p99 ${fixed.latency.p99.toFixed(2)} ms, ${fixed.missing} missing`);
    const max = await phase(context, 'max', setup.ready);
    log(
      `max: ${Math.round(max.perSecond)} msgs/s, ${max.cpuPerMillion.toFixed(2)} server CPU s/M, ` +
        `CPU use: server ${max.serverCpuShare.toFixed(2)}${target.redisPid ? `, Redis ${max.redisCpuShare.toFixed(2)}` : ''}, subscribers ${max.clientCpuShare.toFixed(2)}`,
    );
    return {
      subscribed: setup.ready,
      p50: fixed.latency.p50,
      p99: fixed.latency.p99,
      max: fixed.latency.max,
      p99OnA: fixed.p99ByServer.a,
      p99OnOthers: fixed.p99ByServer.others,
      maxPerSecond: max.perSecond,
      cpuPerMillion: max.cpuPerMillion,
      serverCpuShare: max.serverCpuShare,
      redisCpuPerMillion: max.redisCpuPerMillion,
      redisCpuShare: max.redisCpuShare,
      clientCpuShare: max.clientCpuShare,
      p99AtMax: max.latency.p99,
      missing: fixed.missing + max.missing,
      errors: [...setup.errors, ...fixed.errors, ...max.errors],
    };
  },
};
