/**
 * connect: N connections, each subscribed to one of `channels` public
 * channels, held open for `hold` seconds. Reports how fast they were set up
 * and the server's resident memory per idle subscribed connection. On a
 * cluster target the connections go round-robin over its servers and the
 * memory is summed over them (Redis's not included): the way past one
 * process's open-file limit.
 */
import { sleep } from '../lib/clock.mjs';
import { sample } from '../lib/proc.mjs';

/** Connections opened first and kept: later growth is per connection, not start-up cost. */
const WARM_UP = 100;

/** RSS and open handles, summed over the servers of a cluster target. */
function sampleServers(target) {
  const samples = (target.pids ?? [target.pid]).map((pid) => sample(pid));
  return { rss: samples.reduce((total, one) => total + one.rss, 0), handles: samples.reduce((total, one) => total + one.handles, 0) };
}

export default {
  name: 'connect',
  summary: 'N idle subscribed connections: setup rate, server RSS per connection, held without errors',
  defaults: { connections: 1000, channels: 100, hold: 5 },
  acceptsClusters: true,
  metrics: [
    { key: 'ready', label: 'subscribed', digits: 0 },
    { key: 'failed', label: 'failed', digits: 0 },
    { key: 'lost', label: 'lost while held', digits: 0 },
    { key: 'rate', label: 'setups/s', digits: 0, better: 'higher' },
    { key: 'setupP99', label: 'setup p99 ms', digits: 1, better: 'lower' },
    { key: 'rssMb', label: 'server RSS MB', digits: 1 },
    { key: 'perConnectionKb', label: 'RSS KB per connection', digits: 2, better: 'lower' },
  ],
  async run({ target, pool, options, log }) {
    const plan = { prefix: 'idle-', modulo: options.channels };
    const warm = Math.min(WARM_UP, options.connections);
    const servers = target.servers ?? target;
    const first = await pool.connect(servers, warm, { plan });
    await sleep(1000);
    const base = sampleServers(target);
    const rest = await pool.connect(servers, options.connections - warm, { plan, offset: warm });
    log(`${rest.ready + first.ready} subscribed in ${rest.seconds.toFixed(1)} s; holding ${options.hold} s`);
    await sleep(options.hold * 1000);
    const held = sampleServers(target);
    const stats = await pool.stats();
    const grown = rest.ready;
    return {
      ready: first.ready + rest.ready,
      failed: first.failed + rest.failed,
      lost: stats.lost,
      rate: rest.ready / rest.seconds,
      setupP99: rest.setup.quantile(0.99) / 1000,
      rssMb: held.rss / 2 ** 20,
      perConnectionKb: grown > 0 ? (held.rss - base.rss) / grown / 1024 : NaN,
      handles: held.handles,
      errors: [...first.errors, ...rest.errors, ...stats.errors],
    };
  },
};
