/**
 * The coordinator's side of the Sessions (bench/lib/sessions.mjs) held by
 * the pool's workers: the same operations, spread over the workers, their
 * answers merged. Session numbers are distinct per worker (a block of
 * 10 000 000 each), so are the user ids of presence members.
 */
import { Histogram } from './histogram.mjs';
import { endpoint, shareOf } from './pool.mjs';

const BLOCK = 10_000_000;

function sum(results, key) {
  return results.reduce((total, result) => total + result[key], 0);
}

export class SessionPool {
  /** `servers`: one target or a cluster's list (session i on server i mod length); `plan`: see sessionChannels(). */
  constructor(pool, servers, plan) {
    this.pool = pool;
    this.targets = [servers].flat().map(endpoint);
    this.plan = plan;
    this.opened = 0;
  }

  run(op, args = () => ({})) {
    return this.pool.all('sessions', (worker) => ({ op, args: args(worker) }));
  }

  /** Options every open needs, for one worker. */
  common(worker) {
    return { targets: this.targets, plan: this.plan, localAddresses: worker.localAddresses };
  }

  /** Opens `count` more sessions spread over the workers (numbered on from the last ones). */
  async open(count, { timeoutMs, inFlight } = {}) {
    const workers = this.pool.workers.length;
    const offset = this.opened;
    this.opened += Math.ceil(count / workers);
    await this.run('openMany', (worker) => ({
      ...this.common(worker),
      first: worker.number * BLOCK + offset,
      count: shareOf(count, workers, worker.number),
      timeoutMs,
      inFlight,
    }));
    return this.stats();
  }

  /** Keeps `count` sessions cycling (see SessionSet.churn) for `durationMs`. */
  churn({ count, lifetimeMs, durationMs, timeoutMs }) {
    const workers = this.pool.workers.length;
    return this.run('churn', (worker) => ({
      ...this.common(worker),
      count: shareOf(count, workers, worker.number),
      lifetimeMs,
      durationMs,
      timeoutMs,
      firstIndex: worker.number * BLOCK + this.opened,
    }));
  }

  /** Counters summed over the workers, latency merged, the first errors. */
  async stats() {
    const results = await this.run('stats');
    const latency = new Histogram();
    for (const result of results) latency.merge(result.latency);
    const merged = { latency, errors: results.flatMap((result) => result.errors) };
    for (const key of Object.keys(results[0])) if (typeof results[0][key] === 'number') merged[key] = sum(results, key);
    return merged;
  }

  async reset() {
    await this.run('reset');
  }

  async mark() {
    await this.run('mark');
  }

  /** Closes `count` subscribed sessions of server number `server`, spread over the workers; their user ids. */
  async closeSome(count, server) {
    const workers = this.pool.workers.length;
    const closed = await this.run('closeSome', (worker) => ({ count: shareOf(count, workers, worker.number), server }));
    return closed.flat();
  }

  async closeAll() {
    await this.run('closeAll');
  }

  async phaseReport(acceptedByChannel) {
    const results = await this.run('phaseReport', () => ({ acceptedByChannel }));
    return Object.fromEntries(Object.keys(results[0]).map((key) => [key, sum(results, key)]));
  }

  /** What the clients know: connections open, and per channel the sorted user ids subscribed. */
  async truth() {
    const results = await this.run('truth');
    const channels = {};
    for (const result of results) for (const [name, ids] of Object.entries(result.channels)) (channels[name] ??= []).push(...ids);
    for (const ids of Object.values(channels)) ids.sort();
    return { connections: sum(results, 'connections'), channels };
  }

  async compareViews(users) {
    const results = await this.run('compareViews', () => ({ users }));
    return { compared: sum(results, 'compared'), mismatched: sum(results, 'mismatched'), examples: results.flatMap((result) => result.examples).slice(0, 3) };
  }
}
