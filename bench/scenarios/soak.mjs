/**
 * soak: about `connections` clients at all times for `duration` seconds
 * (10 minutes by default) against one server. Each client connects,
 * subscribes to a public, a private and a presence channel (one of
 * `groups` of each), receives the events the HTTP API publishes to them
 * (`rate` per second over all the channels, numbered per channel so that a
 * lost one shows as a gap) and leaves after a lifetime drawn evenly from
 * 0.2–1.8 × `lifetime` seconds, replaced by a new client.
 *
 * Every `interval` seconds it logs the server's RSS and open descriptors
 * (/proc/<pid>/status, /proc/<pid>/fd) and the clients' counts. At the end,
 * with churn stopped, the HTTP API must agree with the clients and every
 * presence view with /users; then everybody leaves and the API must show no
 * connection, no channel and no presence user, and memory and descriptors
 * must come back to where they started (sampled `settle` seconds later).
 */
import { ApiClient } from '../lib/api-client.mjs';
import { sleep } from '../lib/clock.mjs';
import { waitUntilConsistent } from '../lib/consistency.mjs';
import { latencyMs } from '../lib/measure.mjs';
import { peakSampler, sample } from '../lib/proc.mjs';
import { SessionPool } from '../lib/session-pool.mjs';
import { planChannels } from '../lib/sessions.mjs';

const MB = 2 ** 20;
const PLAN = (groups) => ({ prefixes: ['soak-', 'private-soak-', 'presence-soak-'], groups });
/** The RSS and fds after everyone left are sampled every this many ms, for the log. */
const SETTLE_STEP_MS = 5000;

/** The log line of one interval. */
function progressLine(seconds, stats, now) {
  const rss = now.rss === undefined ? 'n/a' : `${(now.rss / MB).toFixed(1)} MB`;
  return (
    `${seconds.toFixed(0)} s: ${stats.ready} subscribed, ${stats.opened} connections made (${stats.failed} failed, ${stats.lost} dropped), ` +
    `${stats.received} events received, ${stats.missed} missed; server RSS ${rss}, ${now.handles ?? 'n/a'} fds`
  );
}

/** What a consistency check still found at its last look: API discrepancies and wrong presence views (0 when it held). */
function disagreements(check) {
  return check.found.length + (check.views?.mismatched ?? 0);
}

export default {
  name: 'soak',
  summary:
    'clients cycling for minutes (connect, public + private + presence, receive, leave): server RSS and fds at start, peak and end, events missed, HTTP API and presence views consistent',
  // settle: how long the server stays idle after the last client left before the end sample. V8
  // gives heap pages back only once its memory reducer has run idle-time collections (10–45 s
  // after the load stopped, measured here), so an earlier sample measures the heap's slack, not a leak.
  defaults: { connections: 1000, duration: 600, lifetime: 10, rate: 75, groups: 25, payload: 100, settle: 90 },
  targets: (transport) => transport,
  metrics: [
    { key: 'opened', label: 'connections made', digits: 0 },
    { key: 'failed', label: 'failed', digits: 0 },
    { key: 'lost', label: 'dropped by server', digits: 0 },
    { key: 'received', label: 'events received', digits: 0 },
    { key: 'missed', label: 'missed', digits: 0 },
    { key: 'p99', label: 'event p99 ms', digits: 1 },
    { key: 'viewsWrong', label: 'API ≠ clients at end', digits: 0 },
    { key: 'leftoverAfter', label: 'API not empty after all left', digits: 0 },
    { key: 'rssStart', label: 'RSS start MB', digits: 1 },
    { key: 'rssPeak', label: 'RSS peak MB', digits: 1 },
    { key: 'rssEnd', label: 'RSS end MB', digits: 1 },
    { key: 'rssMargin', label: 'RSS end − start MB', digits: 1 },
    { key: 'fdsStart', label: 'fds start', digits: 0 },
    { key: 'fdsPeak', label: 'fds peak', digits: 0 },
    { key: 'fdsEnd', label: 'fds end', digits: 0 },
  ],
  async run({ target, pool, options, log }) {
    const plan = PLAN(options.groups);
    const channels = planChannels(plan);
    const presenceChannels = channels.filter((name) => name.startsWith('presence-'));
    const sessions = new SessionPool(pool, target, plan);
    const api = new ApiClient(target);
    const interval = options.interval ?? Math.min(60, Math.max(5, Math.round(options.duration / 6)));
    const durationMs = options.duration * 1000;

    const start = sample(target.pid);
    const peak = peakSampler(target.pid, 1000);
    const began = Date.now();
    const stopPublishing = pool.publishInBackground(target, { rate: options.rate, channels, payloadBytes: options.payload });
    const reporter = setInterval(async () => log(progressLine((Date.now() - began) / 1000, await sessions.stats(), sample(target.pid))), interval * 1000);
    let churn;
    try {
      churn = await sessions.churn({ count: options.connections, lifetimeMs: [200 * options.lifetime, 1800 * options.lifetime], durationMs, timeoutMs: 30_000 });
    } finally {
      clearInterval(reporter);
    }
    const published = await stopPublishing();
    await sleep(1000);
    const stats = await sessions.stats();
    log(progressLine((Date.now() - began) / 1000, stats, sample(target.pid)) + ' (churn over)');

    // Churn stopped, clients still there: the API and every presence view must agree with them.
    const held = await waitUntilConsistent({ apis: [api], sessions, presenceChannels, timeoutMs: 10_000 });
    if (held.found.length || held.views.mismatched) {
      log(`with ${held.truth.connections} clients still connected, disagreeing: ${held.found.slice(0, 5).join('; ')}; views ${JSON.stringify(held.views)}`);
    }

    await sessions.closeAll();
    const left = await waitUntilConsistent({ apis: [api], sessions, presenceChannels, timeoutMs: 30_000 });
    if (left.found.length) log(`after every client left, still: ${left.found.slice(0, 5).join('; ')}`);
    else log(`after every client left: 0 connections, no channel, no presence user (${left.apiSeconds.toFixed(1)} s)`);
    const settling = [];
    for (let waited = 0; waited < options.settle * 1000; waited += SETTLE_STEP_MS) {
      await sleep(SETTLE_STEP_MS);
      settling.push(sample(target.pid));
    }
    const end = settling.at(-1);
    if (target.pid) log(`idle after everyone left, every 5 s: RSS ${settling.map((point) => (point.rss / MB).toFixed(1)).join(' → ')} MB, fds ${settling.map((point) => point.handles).join(' → ')}`);
    const peaks = peak();
    api.close();
    if (target.pid) {
      log(`RSS ${(start.rss / MB).toFixed(1)} → peak ${(peaks.rss / MB).toFixed(1)} → ${(end.rss / MB).toFixed(1)} MB; fds ${start.handles} → ${peaks.handles} → ${end.handles}`);
    }
    return {
      opened: stats.opened,
      failed: stats.failed,
      lost: stats.lost,
      received: stats.received,
      missed: stats.missed,
      outOfOrder: stats.outOfOrder,
      contradictions: stats.contradictions,
      p99: latencyMs(stats.latency).p99,
      viewsWrong: disagreements(held),
      leftoverAfter: disagreements(left),
      emptySeconds: left.apiSeconds,
      publishedFailed: published.failed,
      churnSeconds: churn.seconds,
      rssStart: start.rss / MB,
      rssPeak: peaks.rss / MB,
      rssEnd: end.rss / MB,
      rssMargin: (end.rss - start.rss) / MB,
      fdsStart: start.handles,
      fdsPeak: peaks.handles,
      fdsEnd: end.handles,
      errors: [...stats.errors, ...published.errors, ...held.found, ...left.found],
    };
  },
};
