/**
 * faults: two reverb-ts servers with scaling on a private redis-server
 * (target cluster2), `connections` clients spread over both, each in a
 * presence and a public channel (one of `groups` of each), events published
 * into the first live server's API at `rate` per second, and HTTP API
 * traffic on every endpoint to the servers at 20 requests/s. Then, one
 * after the other (bench/lib/faults.mjs):
 *   - Redis stopped (SIGSTOP) for `stall` seconds, then continued;
 *   - Redis killed (SIGKILL) and started again on its port 5 s later;
 *   - server B killed with kill -9 while its clients sit in presence channels.
 * During the two Redis faults, 5 % of the clients of each server leave and
 * as many new ones join, so that there is presence news to get across.
 * First the clients join all at once, without a fault (how soon the API and
 * their views are right); before each phase they leave and join again one
 * at a time, so that each phase starts from right views.
 *
 * After each fault it reports, honestly whatever the build does: whether a
 * server exited; the API requests from 3 s before the fault until healed,
 * per endpoint, by status, with latency; the time until the API's counts and
 * presence lists agree with the clients again, and until every client's
 * member list equals /users (each bounded by `heal` seconds); the events
 * that clients present all along missed; and member frames beyond what
 * explains how each client's view changed (a member removed and added
 * again, say).
 */
import { ApiClient } from '../lib/api-client.mjs';
import { everyEndpoint, startApiTraffic, statusSummary } from '../lib/api-traffic.mjs';
import { sleep } from '../lib/clock.mjs';
import { waitUntilConsistent } from '../lib/consistency.mjs';
import { FAULTS, liveServers } from '../lib/faults.mjs';
import { table } from '../lib/report.mjs';
import { SessionPool } from '../lib/session-pool.mjs';
import { planChannels } from '../lib/sessions.mjs';

const PLAN = (groups, servers) => ({ prefixes: ['faults-', 'presence-faults-'], groups, stride: servers });
/** Events and API traffic run this long before each fault strikes. */
const LEAD_IN_MS = 3000;
/** The share of each server's clients that leave (and are replaced) during a Redis fault. */
const CHURN_SHARE = 0.05;

const PHASE_METRICS = [
  { key: 'cleanStart', label: 'clean start', digits: 'text' },
  { key: 'faultSeconds', label: 'fault s', digits: 1 },
  { key: 'exited', label: 'servers that exited', digits: 'text' },
  { key: 'apiOk', label: 'API requests 200', digits: 0 },
  { key: 'apiFailed', label: 'API requests not 200', digits: 0 },
  { key: 'apiStatuses', label: 'API answers', digits: 'text' },
  { key: 'apiP99', label: 'API p99 ms (worst endpoint)', digits: 0 },
  { key: 'published', label: 'events accepted / not', digits: 'text' },
  { key: 'joins', label: 'joins: subscribed / failed', digits: 'text' },
  { key: 'dropped', label: 'clients dropped', digits: 0 },
  { key: 'apiHealed', label: 'API right after s', digits: 1 },
  { key: 'viewsHealed', label: 'views = /users after s', digits: 1 },
  { key: 'missing', label: 'events missed (clients present throughout)', digits: 0 },
  { key: 'spurious', label: 'spurious member frames', digits: 0 },
  { key: 'contradictions', label: 'contradicting member frames', digits: 0 },
  { key: 'membersBeforeList', label: 'member frames before the member list', digits: 0 },
];

const ENDPOINT_METRICS = [
  { key: 'sent', label: 'sent', digits: 0 },
  { key: 'statuses', label: 'answers', digits: 'text' },
  { key: 'p50', label: 'p50 ms', digits: 1 },
  { key: 'p99', label: 'p99 ms', digits: 1 },
  { key: 'max', label: 'max ms', digits: 1 },
];

/** Waits until the API of `servers` agrees with the clients and their views with it (bounded by `heal` s). */
async function consistentOn({ sessions, presenceChannels, options }, servers, since) {
  const apis = servers.map((server) => new ApiClient(server));
  try {
    return await waitUntilConsistent({ apis, sessions, presenceChannels, since, timeoutMs: options.heal * 1000 });
  } finally {
    for (const api of apis) api.close();
  }
}

/**
 * Every client leaves and new ones join one at a time, each after the one
 * before was subscribed: joins that overlap can leave a client's view wrong
 * (see the first row), and a phase should start from views only its fault
 * can spoil. Returns what was still wrong afterwards (nothing, normally).
 */
async function rejoinOneByOne(context) {
  const { target, options, sessions, log } = context;
  await sessions.closeAll();
  const left = await consistentOn(context, liveServers(target), Date.now());
  await sessions.open(options.connections, { inFlight: 1, timeoutMs: 30_000 });
  const joined = await consistentOn(context, liveServers(target), Date.now());
  const wrong = [...unhealedOf(left), ...unhealedOf(joined)];
  if (wrong.length) log(`clients re-joined one by one, still wrong: ${wrong.slice(0, 4).join('; ')}`);
  return wrong;
}

/** Everything about one phase: a clean start, the fault (or none), healing, accounting. */
async function runPhase(context, fault) {
  const { target, pool, options, sessions, presenceChannels, channels, log } = context;
  const startProblems = await rejoinOneByOne(context);
  const before = liveServers(target);
  const victim = fault?.victim?.(target);
  await sessions.mark();
  await sessions.reset();
  const stopPublishing = pool.publishInBackground(before[0], { rate: options.rate, channels });
  const traffic = startApiTraffic(
    before.filter((server) => server !== victim),
    { calls: everyEndpoint({ channel: 'faults-api', presenceChannel: presenceChannels[0] }), rate: 20, timeoutMs: 5000 },
  );
  await sleep(LEAD_IN_MS);

  const struck = Date.now();
  let joining;
  if (fault) {
    await fault.start(target);
    log(`${fault.name}: struck`);
    try {
      if (fault.churn) {
        await sleep(Math.min(2000, fault.holdMs(options) / 2));
        const leaving = Math.max(1, Math.round((options.connections * CHURN_SHARE) / before.length));
        const left = (await Promise.all(before.map((_, server) => sessions.closeSome(leaving, server)))).flat();
        joining = sessions.open(left.length, { inFlight: 1, timeoutMs: 30_000 });
      }
      await sleep(Math.max(0, struck + fault.holdMs(options) - Date.now()));
    } finally {
      // Lifted whatever happened, so that the run can stop its servers and Redis.
      await fault.end(target);
    }
  }
  const lifted = Date.now();
  await joining;
  const heal = await consistentOn(context, liveServers(target), lifted);
  const api = await traffic();
  const published = await stopPublishing();
  await sleep(1500);
  const accounting = await sessions.phaseReport(published.acceptedByChannel);
  const stats = await sessions.stats();
  const exited = before.filter((server) => server.exited() !== null && server !== victim);
  if (heal.viewsMeanwhile?.mismatched) {
    log(`when the API was right again (${heal.apiSeconds.toFixed(1)} s), client views still wrong: ${JSON.stringify(heal.viewsMeanwhile)}`);
  }
  if (heal.found.length || heal.views?.mismatched) {
    log(`not healed after ${options.heal} s: ${heal.found.slice(0, 4).join('; ')}; views ${JSON.stringify(heal.views)}`);
  }
  for (const server of exited) log(`${server.label} on port ${server.port} exited (${server.exited()}): ${server.output().trim().split('\n').slice(-3).join(' / ')}`);
  return {
    values: {
      cleanStart: startProblems.length ? `no: ${startProblems.length} problems` : 'yes',
      faultSeconds: fault ? (lifted - struck) / 1000 : undefined,
      exited: exited.length ? exited.map((server) => `:${server.port} (${server.exited()})`).join(', ') : 'none',
      apiOk: api.ok,
      apiFailed: api.failed,
      apiStatuses: statusSummary(mergeStatuses(api)),
      apiP99: Math.max(...Object.values(api.byCall).map((call) => call.p99).filter((value) => !Number.isNaN(value))),
      published: `${published.accepted} / ${published.failed}`,
      joins: joining ? `${stats.subscribed} / ${stats.failed}` : '–',
      dropped: stats.lost,
      apiHealed: heal.apiSeconds,
      viewsHealed: heal.viewsSeconds,
      missing: accounting.missing,
      spurious: accounting.spuriousMemberFrames,
      contradictions: stats.contradictions,
      membersBeforeList: stats.membersBeforeList,
      presentThroughout: accounting.sessions,
      surplus: accounting.surplus,
    },
    api,
    unhealed: [...startProblems.map((problem) => `at the start: ${problem}`), ...unhealedOf(heal)],
    errors: [...stats.errors, ...published.errors],
  };
}

/** The clients join at once (32 at a time per worker) with no fault: how soon the API and their views are right. */
async function initialJoins(context) {
  const { target, options, sessions, log } = context;
  const began = Date.now();
  const opened = await sessions.open(options.connections, { timeoutMs: 30_000 });
  log(`${opened.ready} clients subscribed over ${target.servers.length} servers (${opened.failed} failed)`);
  const heal = await consistentOn(context, target.servers, began);
  const stats = await sessions.stats();
  return {
    name: 'clients join at once (no fault)',
    values: {
      joins: `${stats.subscribed} / ${stats.failed}`,
      apiHealed: heal.apiSeconds,
      viewsHealed: heal.viewsSeconds,
      contradictions: stats.contradictions,
      membersBeforeList: stats.membersBeforeList,
    },
    api: { byCall: {} },
    unhealed: unhealedOf(heal),
    errors: stats.errors,
  };
}

/** What a consistency check still found when its wait ended, as lines. */
function unhealedOf(heal) {
  return [...heal.found, ...(heal.views?.mismatched ? [`${heal.views.mismatched} of ${heal.views.compared} client views ≠ /users`] : []), ...(heal.views?.examples ?? []).map((example) => JSON.stringify(example))];
}

function mergeStatuses(api) {
  const merged = {};
  for (const call of Object.values(api.byCall)) for (const [status, count] of Object.entries(call.statuses)) merged[status] = (merged[status] ?? 0) + count;
  return merged;
}

export default {
  name: 'faults',
  summary:
    'two servers with scaling on one Redis, clients in presence and public channels on both: Redis SIGSTOP, Redis killed and restarted, kill -9 of a server; API answers during each, time to heal, client presence views',
  defaults: { connections: 200, rate: 20, stall: 20, heal: 60, groups: 4 },
  targets: () => 'cluster2',
  acceptsClusters: true,
  metrics: [
    { key: 'serversExited', label: 'servers that exited unasked', digits: 0 },
    { key: 'apiFailed', label: 'API requests not 200', digits: 0 },
    { key: 'worstApiHeal', label: 'API right after s (worst phase)', digits: 1 },
    { key: 'worstViewsHeal', label: 'views = /users after s (worst phase)', digits: 1 },
    { key: 'missing', label: 'events missed', digits: 0 },
    { key: 'spurious', label: 'spurious member frames', digits: 0 },
  ],
  async run({ target, pool, options, log }) {
    if (!target.servers || target.servers.length < 2) throw new Error('faults needs a cluster of two or more servers (cluster2)');
    const plan = PLAN(options.groups, target.servers.length);
    const channels = planChannels(plan);
    const presenceChannels = channels.filter((name) => name.startsWith('presence-'));
    const sessions = new SessionPool(pool, target.servers, plan);
    const context = { target, pool, options, sessions, presenceChannels, channels, log };

    const phases = [await initialJoins(context)];
    for (const fault of [undefined, ...FAULTS]) {
      const name = fault?.name ?? 'no fault (baseline)';
      if (fault?.needs && !fault.needs(target)) {
        log(`${name}: not run (${fault.needsWhat})`);
        continue;
      }
      if (!liveServers(target).length) {
        log(`${name}: not run, no server left`);
        continue;
      }
      const phase = await runPhase(context, fault);
      log(`${name}: ${JSON.stringify(phase.values)}`);
      phases.push({ name, victim: fault?.victim?.(target), ...phase });
    }

    const phaseRows = phases.map((phase) => ({ label: phase.name, values: phase.values }));
    const endpointRows = phases.flatMap((phase) =>
      Object.entries(phase.api.byCall).map(([call, values]) => ({ label: `${phase.name}: ${call}`, values: { ...values, statuses: statusSummary(values.statuses) } })),
    );
    const unhealed = phases.filter((phase) => phase.unhealed.length).map((phase) => `- ${phase.name}: ${phase.unhealed.slice(0, 4).join('; ')}`);
    const total = (key) => phases.reduce((sum, phase) => sum + (Number(phase.values[key]) || 0), 0);
    // Never healed within the wait counts as ∞.
    const worst = (key) => Math.max(...phases.map((phase) => (Number.isNaN(phase.values[key]) ? Infinity : phase.values[key])));
    const victims = new Set(phases.map((phase) => phase.victim).filter(Boolean));
    return {
      serversExited: target.servers.filter((server) => server.exited() !== null && !victims.has(server)).length,
      apiFailed: total('apiFailed'),
      worstApiHeal: worst('apiHealed'),
      worstViewsHeal: worst('viewsHealed'),
      missing: total('missing'),
      spurious: total('spurious'),
      details: [
        table(PHASE_METRICS, phaseRows, undefined, 'phase'),
        table(ENDPOINT_METRICS, endpointRows, undefined, 'phase: API call (from 3 s before the fault until healed)'),
        unhealed.length ? `Still wrong when the wait for healing ended:\n\n${unhealed.join('\n')}` : 'Every phase healed within the wait.',
      ].join('\n\n'),
      errors: phases.flatMap((phase) => phase.errors),
    };
  },
};
