#!/usr/bin/env node
/**
 * reverb-ts load tool. Starts each server in turn (reverb-ts on uWS, on ws,
 * and soketi installed from npm by bench/peers/soketi), runs one scenario against it with
 * the same client, stops it, and prints one markdown table with the ratios
 * against soketi. Or points the same scenario at a running server (--url).
 * The cluster scenario starts clusters instead (cluster1, cluster3: that
 * many reverb-ts servers and a private redis-server) and divides by cluster1.
 *
 *   node bench/run.mjs <scenario|all> [--targets uws,ws,soketi] [--connections N]
 *     [--duration S] [--rate R] [--workers W] [--smoke] [--json FILE]
 *     [--node-options "--max-semi-space-size=1"]   (Node flags for reverb-ts only, space-separated)
 *     [--profile DIR]   (reverb-ts runs with --cpu-prof; the top costs are printed after each run)
 *   node bench/run.mjs cluster [--targets cluster1,cluster3] [--transport uws|ws] [--connections N]
 *   node bench/run.mjs soak [--transport uws|ws] [--duration S] [--connections N] [--lifetime S] [--interval S] [--settle S]
 *   node bench/run.mjs presence [--members N] [--cap C] [--targets uws,ws,soketi]
 *   node bench/run.mjs faults [--transport uws|ws] [--connections N] [--stall S] [--heal S]
 *   node bench/run.mjs apps [--targets config,mariadb,pgsql] [--connections N] [--population APPS] [--concurrency C]
 *   node bench/run.mjs fanout --url ws://127.0.0.1:6001 --app-id ID --key KEY --secret SECRET [--pid PID]
 *
 * BENCH_REVERB_ROOT=/path/to/checkout runs that checkout's dist/ instead of this one's
 * (before/after comparisons with the same load tool).
 *
 * Loopback only. Raise the open-file limit first for large runs: ulimit -n 20000.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { profileReport } from './lib/cpu-profile.mjs';
import { WorkerPool } from './lib/pool.mjs';
import { table } from './lib/report.mjs';
import { externalTarget, startTarget } from './lib/targets.mjs';
import api from './scenarios/api.mjs';
import apps from './scenarios/apps.mjs';
import churn from './scenarios/churn.mjs';
import cluster from './scenarios/cluster.mjs';
import connect from './scenarios/connect.mjs';
import fanout from './scenarios/fanout.mjs';
import faults from './scenarios/faults.mjs';
import presence from './scenarios/presence.mjs';
import soak from './scenarios/soak.mjs';
import unicast from './scenarios/unicast.mjs';
import slow from './scenarios/slow.mjs';
import whisper from './scenarios/whisper.mjs';

const SCENARIOS = Object.fromEntries(
  [connect, fanout, unicast, whisper, api, churn, slow, cluster, presence, soak, faults, apps].map((scenario) => [scenario.name, scenario]),
);
/** The servers a scenario runs against unless --targets says otherwise. */
const DEFAULT_TARGETS = 'uws,ws,soketi';
/** --smoke: a few seconds per scenario and small counts, for checking the tool itself. */
const SMOKE = { connections: 200, duration: 2, hold: 1, population: 100, churnRate: 20, members: 50, lifetime: 1, stall: 2, heal: 20 };
/** One worker process per this many connections, so that none nears the 20 000 open-files limit. */
const CONNECTIONS_PER_WORKER = 8000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    targets: { type: 'string' },
    transport: { type: 'string', default: 'uws' },
    url: { type: 'string' },
    'app-id': { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    pid: { type: 'string' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    workers: { type: 'string' },
    payload: { type: 'string' },
    channels: { type: 'string' },
    hold: { type: 'string' },
    group: { type: 'string' },
    batch: { type: 'string' },
    concurrency: { type: 'string' },
    population: { type: 'string' },
    stalled: { type: 'string' },
    'churn-rate': { type: 'string' },
    members: { type: 'string' },
    cap: { type: 'string' },
    lifetime: { type: 'string' },
    interval: { type: 'string' },
    stall: { type: 'string' },
    heal: { type: 'string' },
    settle: { type: 'string' },
    outstanding: { type: 'string' },
    publishers: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    'node-options': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'string' },
    'soketi-peer': { type: 'string', default: resolve(import.meta.dirname, 'peers/soketi') },
  },
});

const [which = 'all'] = positionals;
const scenarios = which === 'all' ? Object.values(SCENARIOS) : [SCENARIOS[which]];
if (!scenarios[0]) {
  console.error(`unknown scenario ${which}; one of: ${Object.keys(SCENARIOS).join(', ')}, all`);
  process.exit(2);
}

const numeric = (name) => (values[name] === undefined ? undefined : values[name] === 'max' ? 'max' : Number(values[name]));
function optionsFor(scenario) {
  const given = Object.fromEntries(
    [
      ...['connections', 'duration', 'rate', 'payload', 'channels', 'hold', 'group', 'batch', 'concurrency', 'population', 'outstanding', 'publishers'],
      ...['stalled', 'members', 'cap', 'lifetime', 'interval', 'stall', 'heal', 'settle'],
    ]
      .map((name) => [name, numeric(name)])
      .concat([['churnRate', numeric('churn-rate')]])
      .filter(([, value]) => value !== undefined),
  );
  const smoke = values.smoke ? Object.fromEntries(Object.entries(SMOKE).filter(([name]) => name in scenario.defaults)) : {};
  return { ...scenario.defaults, ...smoke, ...given };
}

/** A scenario's `targets`: a list, or a function of --transport (the soak runs on the one transport it names). */
function kindsFor(scenario) {
  if (values.url) return ['external'];
  const targets = typeof scenario.targets === 'function' ? scenario.targets(values.transport) : scenario.targets;
  return (values.targets ?? targets ?? DEFAULT_TARGETS).split(',').map((kind) => kind.trim());
}
// Checked before anything starts: the other scenarios measure one server's pid and address.
for (const scenario of scenarios) {
  const clusters = kindsFor(scenario).filter((kind) => kind.startsWith('cluster'));
  if (clusters.length && !scenario.acceptsClusters) {
    console.error(`${scenario.name} runs against one server; ${clusters.join(', ')} only with connect, fanout or cluster`);
    process.exit(2);
  }
}

const log = (message) => console.error(`  ${message}`);
const report = [];

/** With --profile, reverb-ts writes its CPU profiles into a directory per scenario and target. */
function profileDirFor(scenario, kind) {
  return values.profile && kind !== 'soketi' && kind !== 'external' ? resolve(values.profile, `${scenario.name}-${kind}`) : undefined;
}

for (const scenario of scenarios) {
  const options = optionsFor(scenario);
  const kinds = kindsFor(scenario);
  console.error(`\n${scenario.name}: ${scenario.summary}\n  options ${JSON.stringify(options)}`);
  const rows = [];
  const details = [];
  const profiles = [];
  for (const kind of kinds) {
    const profileDir = profileDirFor(scenario, kind);
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    const nodeArgs = [...(values['node-options']?.split(/\s+/).filter(Boolean) ?? []), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
    const target =
      kind === 'external'
        ? await externalTarget({ url: values.url, appId: values['app-id'], key: values.key, secret: values.secret, pid: values.pid })
        : await (scenario.startTarget ?? startTarget)(kind, {
            peerDir: values['soketi-peer'],
            nodeArgs,
            transport: values.transport,
            settings: scenario.settings?.(options),
            options,
          });
    const connections = options.connections ?? options.population ?? options.members ?? 0;
    const pool = new WorkerPool(Number(values.workers ?? Math.max(1, Math.ceil(connections / CONNECTIONS_PER_WORKER))));
    console.error(`- ${target.label}: ${target.description}, pid ${target.pids?.join(', ') ?? target.pid ?? 'unknown'}`);
    try {
      const values_ = await scenario.run({ target, pool, options, log });
      if (values_.errors?.length) log(`errors: ${[...new Set(values_.errors)].slice(0, 5).join(' | ')}`);
      rows.push({ label: target.label, kind: target.kind, values: values_ });
      // Scenarios with more to say than one row per server (faults: a row per phase) give it as markdown.
      if (values_.details) details.push(`#### ${target.label}\n\n${values_.details}`);
    } finally {
      await pool.close();
      await target.stop();
    }
    // The profiles are written when the servers exit, i.e. after stop().
    if (profileDir) profiles.push(`#### ${target.label}\n\n${profileReport(profileDir)}`);
  }
  const markdown = table(scenario.metrics, rows, scenario.baseline);
  console.log(`\n### ${scenario.name}\n\n${scenario.summary}; options \`${JSON.stringify(options)}\`\n\n${markdown}\n`);
  if (details.length) console.log(`${details.join('\n\n')}\n`);
  if (profiles.length) console.log(`${profiles.join('\n\n')}\n`);
  report.push({ scenario: scenario.name, options, rows });
}

if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
