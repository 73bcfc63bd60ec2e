/**
 * The servers under test: reverb-ts on either transport and soketi (each
 * started and stopped here, on loopback, with the same app credentials),
 * clusters of reverb-ts servers sharing a private Redis (`cluster1`,
 * `cluster3`, ...), or any Pusher-protocol server already running (`--url`).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sleep } from './clock.mjs';
import { startRedis } from './redis.mjs';
import { freePorts, spawnServer, stopChild } from './spawn.mjs';
import { PusherSocket } from './ws-client.mjs';

/** The reverb-ts checkout whose dist/ runs: this one, or BENCH_REVERB_ROOT (another worktree, for before/after runs). */
const ROOT = resolve(process.env.BENCH_REVERB_ROOT ?? resolve(import.meta.dirname, '../..'));
const CLI = join(ROOT, 'dist/cli/index.js');
export const APP = { appId: 'app-id', key: 'app-key', secret: 'app-secret' };
export const LABELS = { uws: 'reverb-ts (uWS)', ws: 'reverb-ts (ws)', soketi: 'soketi 1.6.1', external: 'external' };

/** Waits until a Pusher connection to the server is established. */
async function waitUntilServing(target, child, output, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${target.label} exited (${child.exitCode}):\n${output()}`);
    const established = await new Promise((resolveOpen) => {
      const socket = new PusherSocket({
        host: target.host,
        port: target.port,
        appKey: target.key,
        listener: {
          open: (s) => {
            resolveOpen(true);
            s.close();
          },
          frame: () => undefined,
          closed: () => resolveOpen(false),
        },
      });
      setTimeout(() => socket.finish(1006), 2000);
    });
    if (established) return;
    await sleep(200);
  }
  throw new Error(`${target.label} did not start serving within ${timeoutMs} ms:\n${output()}`);
}

/**
 * Server settings a scenario may change (`settings` of startTarget), as
 * each server's environment variable: the presence member cap (the app's
 * `max_presence_members_per_channel` in reverb-ts; in soketi the default
 * every app without its own takes, `presence.maxMembersPerChannel`).
 */
const SETTING_VARIABLES = {
  maxPresenceMembers: { reverb: 'REVERB_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL', soketi: 'SOKETI_PRESENCE_MAX_MEMBERS' },
};

function settingsEnvironment(server, settings = {}) {
  return Object.fromEntries(Object.entries(settings).map(([name, value]) => [SETTING_VARIABLES[name][server], String(value)]));
}

/** `, name value` for each setting, for the target's description. */
function settingsNote(settings = {}) {
  return Object.entries(settings)
    .map(([name, value]) => `, ${name} ${value}`)
    .join('');
}

/** Environment without the caller's REVERB_* and REDIS_* settings, so that only ours apply. */
function cleanEnvironment() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REVERB_') && !name.startsWith('REDIS_')));
}

/**
 * `nodeArgs`: Node flags for reverb-ts only (e.g. --max-semi-space-size=1,
 * --cpu-prof); `env`: more settings (the cluster's scaling ones); `files`:
 * { name: text } written into the server's working directory first (a
 * reverb.config.json).
 */
export async function startReverb(transport, nodeArgs = [], env = {}, files = {}) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const port = await freePorts(1);
  const cwd = mkdtempSync(join(tmpdir(), 'reverb-bench-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, name), text);
  const { child, output } = spawnServer(process.execPath, [...nodeArgs, CLI, 'start', '--host', '127.0.0.1', '--port', String(port), '--transport', transport], {
    cwd,
    env: {
      ...cleanEnvironment(),
      REVERB_APP_ID: APP.appId,
      REVERB_APP_KEY: APP.key,
      REVERB_APP_SECRET: APP.secret,
      REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM: 'members',
      ...env,
    },
  });
  const target = { kind: transport, label: LABELS[transport], host: '127.0.0.1', port, ...APP, pid: child.pid, output };
  try {
    await waitUntilServing(target, child, output);
  } catch (error) {
    await stopChild(child);
    rmSync(cwd, { recursive: true, force: true });
    throw error;
  }
  target.description = (/Transport: (.*)/.exec(output())?.[1] ?? transport) + (nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : '');
  /** The exit code or signal once the server is gone (a crash, a kill), else null. */
  target.exited = () => child.exitCode ?? child.signalCode;
  target.stop = async () => {
    await stopChild(child);
    rmSync(cwd, { recursive: true, force: true });
  };
  return target;
}

async function startSoketi(peerDir, settings) {
  const soketiDir = process.env.SOKETI_DIR ?? join(tmpdir(), 'soketi-peer');
  if (!existsSync(join(soketiDir, 'node_modules/@soketi/soketi/bin/server.js'))) {
    console.error(`installing soketi into ${soketiDir} (${peerDir}/install.sh) ...`);
    const install = spawnSync('bash', [join(peerDir, 'install.sh')], { stdio: 'inherit', env: { ...process.env, SOKETI_DIR: soketiDir } });
    if (install.status !== 0) throw new Error('soketi install.sh failed');
  }
  const port = await freePorts(3);
  const { child, output } = spawnServer('bash', [join(peerDir, 'start.sh'), String(port)], {
    env: { ...process.env, SOKETI_DIR: soketiDir, SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES: 'true', ...settingsEnvironment('soketi', settings) },
  });
  // start.sh exec's node: the child's pid is soketi's.
  // soketi has no /up; GET / is its health check.
  const target = { kind: 'soketi', label: LABELS.soketi, host: '127.0.0.1', port, ...APP, pid: child.pid, output, healthPath: '/' };
  try {
    await waitUntilServing(target, child, output);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  target.description = `soketi 1.6.1 on uWS 20.30 (trufflesuite republish), local adapter${settingsNote(settings)}`;
  target.stop = () => stopChild(child);
  return target;
}

/** A server somebody else runs: `--url ws://host:port --app-id --key --secret [--pid]`. */
export async function externalTarget({ url, appId, key, secret, pid }) {
  const parsed = new URL(url);
  const target = {
    kind: 'external',
    label: `${parsed.host}`,
    host: parsed.hostname,
    port: Number(parsed.port || 80),
    appId,
    key,
    secret,
    pid: pid ? Number(pid) : undefined,
    description: url,
    stop: async () => undefined,
  };
  await waitUntilServing(target, undefined, () => '');
  return target;
}

/**
 * `count` reverb-ts servers with scaling on, linked by a redis-server of
 * their own under a namespace of their own. `servers` lists them (A first:
 * the cluster scenario publishes there); `pids` are the servers' for the CPU
 * figures, `redisPid` Redis's. `restartRedis()` starts a new redis-server on
 * the same port (after the faults scenario killed the first). Whatever
 * started is stopped again on failure.
 */
async function startCluster(count, transport, nodeArgs, settings) {
  let redis = await startRedis();
  const servers = [];
  const stop = async () => {
    // Servers first: a graceful shutdown deregisters from the Redis still running.
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  };
  const env = {
    REVERB_SCALING_ENABLED: 'true',
    REVERB_SCALING_CHANNEL: `bench-${randomBytes(4).toString('hex')}`,
    REDIS_URL: redis.url,
    ...settingsEnvironment('reverb', settings),
  };
  try {
    // One at a time: each start is short, and a failure leaves a known list to stop.
    for (let k = 0; k < count; k++) servers.push(await startReverb(transport, nodeArgs, env));
  } catch (error) {
    await stop();
    throw error;
  }
  const cluster = {
    kind: `cluster${count}`,
    label: `cluster${count}: ${count} × ${LABELS[transport]} + Redis`,
    servers,
    pids: servers.map((server) => server.pid),
    redisPid: redis.pid,
    description: `${count} × ${servers[0].description}, scaling on (namespace ${env.REVERB_SCALING_CHANNEL}), redis-server ${redis.version} on port ${redis.port}${settingsNote(settings)}`,
    stop,
    restartRedis: async () => {
      await redis.stop();
      redis = await startRedis({ port: redis.port });
      cluster.redisPid = redis.pid;
    },
  };
  return cluster;
}

/** More servers than this on one machine measure the scheduler, not the cluster. */
const MAX_CLUSTER = 8;

/**
 * `transport`: the transport of cluster targets (uws or ws); `nodeArgs`: see
 * startReverb; `settings`: see SETTING_VARIABLES.
 */
export async function startTarget(kind, { peerDir, nodeArgs, transport = 'uws', settings }) {
  if (kind === 'soketi') return startSoketi(peerDir, settings);
  if (kind === 'uws' || kind === 'ws') {
    const target = await startReverb(kind, nodeArgs, settingsEnvironment('reverb', settings));
    target.description += settingsNote(settings);
    return target;
  }
  const size = Number(/^cluster(\d+)$/.exec(kind)?.[1]);
  if (size >= 1 && size <= MAX_CLUSTER && (transport === 'uws' || transport === 'ws')) return startCluster(size, transport, nodeArgs, settings);
  throw new Error(`unknown target ${kind} (expected uws, ws, soketi or cluster1..cluster${MAX_CLUSTER} with --transport uws|ws)`);
}
