/**
 * apps: WebSocket connection setup (open → pusher:connection_established,
 * no subscription) under each app provider, all reverb-ts on uWS:
 *
 * - `config`: the config provider, every app in a reverb.config.json;
 * - `mariadb`, `pgsql`: the database provider, the apps table made from
 *   docs/sql in a database of its own (created before, dropped after), the
 *   rows inserted directly.
 *
 * Three phases against the same server: **cached** (`connections`
 * connections to one app the server has already looked up), **cold**
 * (`population` distinct apps, one connection each, each app's first: a
 * lookup in the table, or the app runtime made from the config file),
 * **unknown** (`population` distinct keys no app has: refusals/s, and what
 * they cost the database, from `reverb_app_store_queries_total` on /metrics).
 * Connections of a phase are closed before the next one. Ratios against
 * `config` from the same run.
 */
import { randomBytes } from 'node:crypto';
import { sleep } from '../lib/clock.mjs';
import { APPS_DATABASES } from '../lib/apps-db.mjs';
import { APP, startReverb } from '../lib/targets.mjs';

/** Connections to the cached app opened (and closed) before anything is measured. */
const WARM_UP = 500;

const LABELS = { config: 'config provider (uWS)', mariadb: 'database provider, MariaDB (uWS)', pgsql: 'database provider, PostgreSQL (uWS)' };

/** The apps of the cold phase: `count` of them, numbered, besides the cached one (APP). */
function coldApps(count) {
  return Array.from({ length: count }, (_, k) => ({ appId: `bench-app-${k}`, key: `bench-key-${k}`, secret: `bench-secret-${k}` }));
}

/** A reverb.config.json listing `apps`, in Reverb's snake_case shape. */
function configFile(apps) {
  return JSON.stringify({ apps: { provider: 'config', apps: apps.map((app) => ({ app_id: app.appId, key: app.key, secret: app.secret })) } });
}

/** The sum of `reverb_app_store_queries_total` (0 while it has no sample: the config provider). */
async function storeQueries(target) {
  const text = await (await fetch(`http://${target.host}:${target.port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return text
    .split('\n')
    .filter((line) => /^reverb_app_store_queries_total[{ ]/.test(line))
    .reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
}

/** A phase's columns: `what` per second, p50 and p99 of each one's time. */
function phaseColumns(phase, what) {
  return [
    { key: `${phase}Rate`, label: `${phase} ${what}/s`, digits: 0, better: 'higher' },
    { key: `${phase}P50`, label: `${phase} p50 ms`, digits: 2, better: 'lower' },
    { key: `${phase}P99`, label: `${phase} p99 ms`, digits: 2, better: 'lower' },
  ];
}

/** The values of phaseColumns: `count` in `seconds`, quantiles (µs) of `histogram` in ms. */
function phaseValues(phase, count, seconds, histogram) {
  return {
    [`${phase}Rate`]: count / seconds,
    [`${phase}P50`]: histogram.quantile(0.5) / 1000,
    [`${phase}P99`]: histogram.quantile(0.99) / 1000,
  };
}

export default {
  name: 'apps',
  summary: 'connection setup (open → connection_established) under the config and database app providers: one cached app, N apps each for the first time, N unknown keys',
  defaults: { connections: 5000, population: 2000, concurrency: 64 },
  targets: 'config,mariadb,pgsql',
  baseline: 'config',
  metrics: [
    ...phaseColumns('cached', 'setups'),
    ...phaseColumns('cold', 'setups'),
    { key: 'coldQueries', label: 'cold store queries', digits: 0 },
    ...phaseColumns('unknown', 'refusals'),
    { key: 'unknownQueries', label: 'unknown store queries', digits: 0 },
    { key: 'failed', label: 'failed (cached+cold) / accepted unknown', digits: 'text' },
  ],

  /** Starts reverb-ts (uWS) on the provider `kind`; stop() also drops the database. */
  async startTarget(kind, { nodeArgs, options }) {
    const apps = [APP, ...coldApps(options.population)];
    const env = { REVERB_METRICS_ENABLED: 'true' };
    if (kind === 'config') {
      const target = await startReverb('uws', nodeArgs, env, { 'reverb.config.json': configFile(apps) });
      return Object.assign(target, { kind, label: LABELS.config, description: `${target.description}, ${apps.length} apps in reverb.config.json` });
    }
    const open = APPS_DATABASES[kind];
    if (!open) throw new Error(`unknown target ${kind} for apps (expected config, mariadb or pgsql)`);
    const database = await open();
    try {
      await database.insert(apps);
      const target = await startReverb('uws', nodeArgs, { ...env, ...database.env, REVERB_APP_PROVIDER: 'database', REVERB_APPS_CACHE_TTL: '60' });
      const stopServer = target.stop;
      return Object.assign(target, {
        kind,
        label: LABELS[kind],
        description: `${target.description}, ${apps.length} rows in ${database.env.DB_DATABASE} on ${database.version}, cache TTL 60 s`,
        stop: async () => {
          try {
            await stopServer();
          } finally {
            await database.drop();
          }
        },
      });
    } catch (error) {
      await database.drop();
      throw error;
    }
  },

  async run({ target, pool, options, log }) {
    const phase = async (name, servers, total) => {
      const before = await storeQueries(target);
      const result = await pool.connect(servers, total, { plan: null, inFlight: options.concurrency, timeoutMs: 30_000 });
      const queries = (await storeQueries(target)) - before;
      log(`${name}: ${result.ready} established, ${result.failed} refused or failed in ${result.seconds.toFixed(2)} s, ${queries} store queries`);
      await pool.all('closeAll');
      await sleep(1000);
      return { ...result, queries };
    };
    // The server answered waitUntilServing on APP's key already: it is looked up. A first
    // round, not measured, warms the client and the server's connect path up.
    await phase('warm-up', target, Math.min(WARM_UP, options.connections));
    const cached = await phase('cached', target, options.connections);
    const cold = await phase('cold', coldApps(options.population).map((app) => ({ ...target, ...app })), options.population);
    const salt = randomBytes(4).toString('hex');
    const unknownKeys = Array.from({ length: options.population }, (_, k) => ({ ...target, key: `unknown-${salt}-${k}` }));
    const unknown = await phase('unknown', unknownKeys, options.population);
    return {
      ...phaseValues('cached', cached.ready, cached.seconds, cached.setup),
      ...phaseValues('cold', cold.ready, cold.seconds, cold.setup),
      coldQueries: cold.queries,
      ...phaseValues('unknown', unknown.failed, unknown.seconds, unknown.refused),
      unknownQueries: unknown.queries,
      failed: `${cached.failed + cold.failed} / ${unknown.ready}`,
      // The refusals' reasons are expected; only the first few unexpected errors are shown.
      errors: [...cached.errors, ...cold.errors, ...unknown.errors.filter((error) => !error.includes('4001'))],
    };
  },
};
