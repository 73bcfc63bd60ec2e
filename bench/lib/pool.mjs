/**
 * The coordinator's handle on the worker processes: forks them, gives each
 * its own loopback source addresses (127.0.0.2, 127.0.0.3, ...) so that
 * neither the ephemeral ports of one address nor one process's open-file
 * limit caps the connection count, and sends them commands over IPC.
 */
import { fork } from 'node:child_process';
import { Histogram } from './histogram.mjs';

const WORKER = new URL('../worker.mjs', import.meta.url);
/** Source addresses per worker: ~28 000 ephemeral ports each, a few spare for churn's TIME_WAITs. */
const ADDRESSES_PER_WORKER = 4;

/** What a worker needs to know about the server (targets also hold functions and a child process). */
export function endpoint({ host, port, appId, key, secret }) {
  return { host, port, appId, key, secret };
}

class Worker {
  constructor(number) {
    this.number = number;
    this.localAddresses = Array.from({ length: ADDRESSES_PER_WORKER }, (_, k) => `127.0.0.${2 + number * ADDRESSES_PER_WORKER + k}`);
    this.child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.pending = new Map();
    this.nextId = 0;
    this.onProgress = undefined;
    this.received = 0;
    this.child.on('message', (message) => {
      if (message.type === 'progress') {
        this.received = message.received;
        this.onProgress?.();
        return;
      }
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.result);
      else waiting?.reject(new Error(`worker ${this.number}: ${message.error}`));
    });
    this.child.on('exit', (code) => {
      for (const waiting of this.pending.values()) waiting.reject(new Error(`worker ${this.number} exited (${code})`));
      this.pending.clear();
    });
  }

  send(cmd, args = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }
}

export class WorkerPool {
  /** `count` subscriber workers, plus one process of its own for the HTTP API publisher. */
  constructor(count) {
    this.workers = Array.from({ length: count }, (_, number) => new Worker(number));
    this.publisher = new Worker(count);
  }

  /** Zeroes the subscribers' counters and latency histograms before a measurement. */
  async reset() {
    await this.all('reset');
    for (const worker of this.workers) worker.received = 0;
  }

  /**
   * Runs the publisher to completion. With `maxOutstanding`, the subscribers
   * report progress every 20 ms and the publisher gets it as credit, so that
   * "as fast as possible" never outruns the receivers into slow-consumer closes.
   */
  async publish(target, options) {
    if (options.maxOutstanding) {
      await this.progress(20, () => this.publisher.send('credit', { delivered: this.received }));
    }
    try {
      return await this.publisher.send('publish', { target: endpoint(target), options: { ...options, localAddress: this.publisher.localAddresses[0] } });
    } finally {
      if (options.maxOutstanding) await this.progress(0);
    }
  }

  /**
   * Publishes sequenced events (see Publisher) at `rate` to `channels` in the
   * background, each request bounded by 5 s so that a stalled server shows
   * as failures, until the returned stop() (which resolves with the
   * publisher's result). `backstopMs` only bounds a run nobody stops.
   */
  publishInBackground(target, { rate, channels, payloadBytes = 100, backstopMs = 60 * 60_000 }) {
    const run = this.publish(target, {
      rate,
      durationMs: backstopMs,
      concurrency: 1,
      channels,
      batchSize: 0,
      payloadBytes,
      sequenced: true,
      requestTimeoutMs: 5000,
    });
    return async () => {
      await this.publisher.send('stopPublishing');
      return run;
    };
  }

  /** Runs `cmd` on every worker; `args(worker)` gives each its arguments. */
  all(cmd, args = () => ({})) {
    return Promise.all(this.workers.map((worker) => worker.send(cmd, args(worker))));
  }

  /**
   * Opens `total` subscribed connections spread evenly over the workers,
   * numbered offset..offset+total-1 over all workers, so that channels,
   * sampling and servers do not depend on the split. `servers`: one target,
   * or a list over which the connections go round-robin (number i to server
   * i mod length; a list of apps of one server works the same way). Without
   * a `plan` the connections are not subscribed. `setup` times the
   * connections made, `refused` the attempts that failed.
   */
  async connect(servers, total, { plan, sampleEvery = 1, inFlight, timeoutMs, offset = 0 }) {
    const share = Math.ceil(total / this.workers.length);
    const results = await this.all('connect', (worker) => {
      const skip = worker.number * share;
      return {
        targets: [servers].flat().map(endpoint),
        first: offset + skip,
        count: Math.max(0, Math.min(share, total - skip)),
        plan,
        sampleEvery,
        inFlight,
        timeoutMs,
        localAddresses: worker.localAddresses,
      };
    });
    const setup = new Histogram();
    const refused = new Histogram();
    for (const result of results) {
      setup.merge(result.setup);
      refused.merge(result.refused);
    }
    return {
      ready: sum(results, 'ready'),
      failed: sum(results, 'failed'),
      errors: results.flatMap((result) => result.errors),
      seconds: Math.max(...results.map((result) => result.seconds)),
      setup,
      refused,
    };
  }

  /** Received counts, latency (overall and per server) and losses summed over the workers. */
  async stats() {
    const results = await this.all('stats');
    const latency = new Histogram();
    const serverLatency = [];
    for (const result of results) {
      latency.merge(result.latency);
      result.serverLatency.forEach((sparse, server) => (serverLatency[server] ??= new Histogram()).merge(sparse));
    }
    return {
      serverLatency,
      received: sum(results, 'received'),
      open: sum(results, 'open'),
      lost: sum(results, 'lost'),
      errors: results.flatMap((result) => result.errors),
      cpuSeconds: sum(results, 'cpuSeconds'),
      latency,
    };
  }

  /** Total received so far as last reported by the workers' progress messages. */
  get received() {
    return this.workers.reduce((total, worker) => total + worker.received, 0);
  }

  /** Calls `listener` on every progress report, with reports every `everyMs` (0 stops them). */
  async progress(everyMs, listener) {
    for (const worker of this.workers) worker.onProgress = everyMs ? listener : undefined;
    await this.all('progress', () => ({ everyMs }));
  }

  async close() {
    const everyone = [...this.workers, this.publisher];
    await Promise.allSettled(everyone.map((worker) => worker.send('closeAll')));
    for (const worker of everyone) worker.child.disconnect();
    await Promise.all(
      everyone.map(
        (worker) =>
          new Promise((resolve) => {
            if (worker.child.exitCode !== null) return resolve();
            const timer = setTimeout(() => worker.child.kill('SIGKILL'), 3000);
            worker.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}

/** Worker `number`'s part of `count` things spread as evenly as possible over `workers`. */
export function shareOf(count, workers, number) {
  return Math.floor(count / workers) + (number < count % workers ? 1 : 0);
}

function sum(results, key) {
  return results.reduce((total, result) => total + result[key], 0);
}
