/**
 * HTTP API traffic at a fixed rate while something else happens (a fault,
 * a presence burst): requests go out on schedule whether or not earlier
 * ones were answered (open loop, at most `maxInFlight` waiting), so that a
 * server that stalls shows as timeouts and late answers rather than as
 * fewer requests. Requests cycle through `calls` and over the servers;
 * the result counts, per call, the answers by status and their latency.
 */
import { ApiClient } from './api-client.mjs';
import { sleep } from './clock.mjs';
import { Histogram } from './histogram.mjs';
import { latencyMs } from './measure.mjs';

/** The server's health check alone, unsigned (/up; a target's `healthPath` where it has another): is it answering at all. */
export const UP = [{ name: 'GET /up', method: 'GET', health: true, signed: false }];

/**
 * One call to every endpoint of the Pusher HTTP API (and /up). Events go to
 * channels of their own (`channel`, `presence-${channel}`) so that the
 * clients' event counts only hold what the scenario published; the reads
 * look at `presenceChannel`, which has members; the terminated user has no
 * connection, so that nobody is cut off.
 */
export function everyEndpoint({ channel, presenceChannel }) {
  const event = (name, info) => ({ name: 'api-traffic', channel: name, data: '{}', info });
  return [
    { name: 'POST /events', method: 'POST', route: '/events', body: event(channel, 'subscription_count') },
    {
      name: 'POST /batch_events',
      method: 'POST',
      route: '/batch_events',
      body: { batch: [event(channel, 'subscription_count'), event(`presence-${channel}`, 'user_count,subscription_count')] },
    },
    { name: 'GET /channels', method: 'GET', route: '/channels', query: { filter_by_prefix: 'presence-', info: 'user_count' } },
    { name: 'GET /channels/{c}', method: 'GET', route: `/channels/${presenceChannel}`, query: { info: 'user_count,subscription_count' } },
    { name: 'GET /channels/{c}/users', method: 'GET', route: `/channels/${presenceChannel}/users` },
    { name: 'GET /connections', method: 'GET', route: '/connections' },
    { name: 'POST /users/{u}/terminate_connections', method: 'POST', route: '/users/nobody/terminate_connections', body: {} },
    ...UP,
  ];
}

/**
 * Starts the traffic against `servers` (targets); `stop()` ends it, waits
 * for the answers still due (each is bounded by `timeoutMs`) and returns
 * { byCall: { name: { sent, statuses: { status: count }, p50, p99, max } },
 *   sent, ok, failed, skipped }, where failed is anything but 200 and
 * skipped counts the slots that found `maxInFlight` requests waiting.
 */
export function startApiTraffic(servers, { calls, rate, timeoutMs = 5000, maxInFlight = 64 }) {
  const clients = servers.map((server) => Object.assign(new ApiClient(server, { timeoutMs }), { healthPath: server.healthPath ?? '/up' }));
  const byCall = Object.fromEntries(calls.map((call) => [call.name, { sent: 0, statuses: {}, latency: new Histogram() }]));
  const waiting = new Set();
  let running = true;
  let skipped = 0;
  const loop = (async () => {
    const started = Date.now();
    for (let slot = 0; running; slot++) {
      const due = started + (slot * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      if (!running) break;
      if (waiting.size >= maxInFlight) {
        skipped++;
        continue;
      }
      const call = calls[slot % calls.length];
      const client = clients[Math.floor(slot / calls.length) % clients.length];
      const stats = byCall[call.name];
      stats.sent++;
      const request = client.call(call.method, call.health ? client.healthPath : call.route, call).then((response) => {
        stats.statuses[response.status] = (stats.statuses[response.status] ?? 0) + 1;
        stats.latency.record(response.ms * 1000);
        waiting.delete(request);
      });
      waiting.add(request);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await Promise.all(waiting);
    for (const client of clients) client.close();
    const result = { byCall: {}, sent: 0, ok: 0, failed: 0, skipped };
    for (const [name, stats] of Object.entries(byCall)) {
      const ok = stats.statuses[200] ?? 0;
      result.sent += stats.sent;
      result.ok += ok;
      result.failed += stats.sent - ok;
      result.byCall[name] = { sent: stats.sent, statuses: stats.statuses, ...latencyMs(stats.latency) };
    }
    return result;
  };
}

/** `{ 200: 40, timeout: 3 }` as `200×40, timeout×3`. */
export function statusSummary(statuses) {
  return Object.entries(statuses)
    .map(([status, count]) => `${status}×${count}`)
    .join(', ');
}
