/** Measurement helpers shared by the scenarios. */
import { sleep } from './clock.mjs';
import { cpuSeconds } from './proc.mjs';

/** CPU seconds of the processes so far; NaN when one pid is unknown. */
function cpuOf(pids) {
  return pids.every(Boolean) ? pids.reduce((total, pid) => total + cpuSeconds(pid), 0) : NaN;
}

/**
 * Runs `work` between two /proc samples of the server (of every server of a
 * cluster target, summed, and of its Redis); adds their CPU seconds and the
 * wall time.
 */
export async function measured(target, work) {
  const servers = target.pids ?? [target.pid];
  const redis = [target.redisPid];
  const before = { at: Date.now(), servers: cpuOf(servers), redis: cpuOf(redis) };
  const result = await work();
  return {
    result,
    seconds: (Date.now() - before.at) / 1000,
    serverCpu: cpuOf(servers) - before.servers,
    redisCpu: cpuOf(redis) - before.redis,
  };
}

/**
 * Waits until the subscribers received `expected` messages, or nothing new
 * arrived for `quietMs` (then the rest counts as lost). Bounded by `timeoutMs`.
 */
export async function drained(pool, expected, { quietMs = 1000, timeoutMs = 15_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const stats = await pool.stats();
    if (stats.received >= expected || Date.now() > deadline) return stats;
    if (stats.received !== last) {
      last = stats.received;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > quietMs) {
      return stats;
    }
    await sleep(100);
  }
}

/** Server CPU seconds per million delivered messages. */
export function cpuPerMillion(serverCpu, delivered) {
  return delivered > 0 ? (serverCpu / delivered) * 1e6 : NaN;
}

/** Latency quantiles in milliseconds from a microsecond histogram. */
export function latencyMs(histogram) {
  return {
    p50: histogram.quantile(0.5) / 1000,
    p99: histogram.quantile(0.99) / 1000,
    max: histogram.quantile(1) / 1000,
  };
}
