/**
 * api: the HTTP API alone. `concurrency` keep-alive connections POST
 * /events (to a channel nobody is subscribed to). Phase 1 at a fixed rate
 * (default 500 events/s) for the request latency of a server that is not
 * saturated; phase 2 back to back for the accepted events/s, the latency at
 * that load and the server CPU per request.
 */
import { latencyMs, measured } from '../lib/measure.mjs';
import { Histogram } from '../lib/histogram.mjs';

async function phase({ target, pool, options }, rate) {
  const run = await measured(target, () =>
    pool.publish(target, {
      rate,
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
  return {
    ...published,
    perSecond: published.accepted / published.seconds,
    latency: latencyMs(histogram),
    cpuPerThousand: (run.serverCpu / (published.accepted + published.failed)) * 1e6,
  };
}

export default {
  name: 'api',
  summary: 'POST /events on keep-alive connections at a fixed rate, then back to back: accepted events/s, request latency, CPU per request',
  defaults: { concurrency: 8, duration: 10, payload: 100, rate: 500 },
  metrics: [
    { key: 'perSecondAtRate', label: 'events/s accepted @rate', digits: 0 },
    { key: 'p50AtRate', label: 'p50 ms @rate', digits: 2, better: 'lower' },
    { key: 'p99AtRate', label: 'p99 ms @rate', digits: 2, better: 'lower' },
    { key: 'perSecond', label: 'max events/s accepted', digits: 0, better: 'higher' },
    { key: 'p50', label: 'p50 ms at max', digits: 2, better: 'lower' },
    { key: 'p99', label: 'p99 ms at max', digits: 2, better: 'lower' },
    { key: 'cpuPerThousand', label: 'server CPU ms / 1000 requests at max', digits: 1, better: 'lower' },
    { key: 'failed', label: 'failed', digits: 0 },
  ],
  async run(context) {
    const { options, log } = context;
    const fixed = await phase(context, options.rate);
    log(`${options.rate}/s: ${fixed.accepted} accepted, ${fixed.failed} failed, p50 ${fixed.latency.p50.toFixed(2)} ms, p99 ${fixed.latency.p99.toFixed(2)} ms`);
    const max = await phase(context, 'max');
    log(`max: ${max.accepted} accepted, ${max.failed} failed in ${max.seconds.toFixed(1)} s`);
    return {
      perSecondAtRate: fixed.perSecond,
      p50AtRate: fixed.latency.p50,
      p99AtRate: fixed.latency.p99,
      perSecond: max.perSecond,
      p50: max.latency.p50,
      p99: max.latency.p99,
      cpuPerThousand: max.cpuPerThousand,
      failed: fixed.failed + max.failed,
      errors: [...fixed.errors, ...max.errors],
    };
  },
};
