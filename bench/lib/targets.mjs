/**
 * The servers under test: reverb-ts on either transport and soketi (each
 * started and stopped here, on loopback, with the same app credentials), or
 * any Pusher-protocol server already running (`--url`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sleep } from './clock.mjs';
import { PusherSocket } from './ws-client.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/index.js');
export const APP = { appId: 'app-id', key: 'app-key', secret: 'app-secret' };
export const LABELS = { uws: 'reverb-ts (uWS)', ws: 'reverb-ts (ws)', soketi: 'soketi 1.6.1', external: 'external' };

function portFree(port) {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort(true)));
  });
}

/** A port with `span - 1` free ports after it (soketi also takes PORT+1 and PORT+2). */
async function freePorts(span) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const all = await Promise.all(Array.from({ length: span }, (_, k) => portFree(port + k)));
    if (all.every(Boolean)) return port;
  }
  throw new Error('no free port found');
}

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

function spawnServer(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => output };
}

async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Environment without the caller's REVERB_* settings, so that only ours apply. */
function cleanEnvironment() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REVERB_')));
}

/** `nodeOptions`: extra Node flags for reverb-ts only (NODE_OPTIONS), e.g. --max-semi-space-size=1. */
async function startReverb(transport, nodeOptions) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const port = await freePorts(1);
  const cwd = mkdtempSync(join(tmpdir(), 'reverb-bench-'));
  const { child, output } = spawnServer(process.execPath, [CLI, 'start', '--host', '127.0.0.1', '--port', String(port), '--transport', transport], {
    cwd,
    env: {
      ...cleanEnvironment(),
      REVERB_APP_ID: APP.appId,
      REVERB_APP_KEY: APP.key,
      REVERB_APP_SECRET: APP.secret,
      REVERB_APP_ACCEPT_CLIENT_EVENTS_FROM: 'members',
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    },
  });
  const target = { kind: transport, label: LABELS[transport], host: '127.0.0.1', port, ...APP, pid: child.pid, output };
  try {
    await waitUntilServing(target, child, output);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  target.description = (/Transport: (.*)/.exec(output())?.[1] ?? transport) + (nodeOptions ? `, NODE_OPTIONS=${nodeOptions}` : '');
  target.stop = async () => {
    await stopChild(child);
    rmSync(cwd, { recursive: true, force: true });
  };
  return target;
}

async function startSoketi(peerDir) {
  const soketiDir = process.env.SOKETI_DIR ?? join(tmpdir(), 'soketi-peer');
  if (!existsSync(join(soketiDir, 'node_modules/@soketi/soketi/bin/server.js'))) {
    console.error(`installing soketi into ${soketiDir} (${peerDir}/install.sh) ...`);
    const install = spawnSync('bash', [join(peerDir, 'install.sh')], { stdio: 'inherit', env: { ...process.env, SOKETI_DIR: soketiDir } });
    if (install.status !== 0) throw new Error('soketi install.sh failed');
  }
  const port = await freePorts(3);
  const { child, output } = spawnServer('bash', [join(peerDir, 'start.sh'), String(port)], {
    env: { ...process.env, SOKETI_DIR: soketiDir, SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES: 'true' },
  });
  // start.sh exec's node: the child's pid is soketi's.
  const target = { kind: 'soketi', label: LABELS.soketi, host: '127.0.0.1', port, ...APP, pid: child.pid, output };
  try {
    await waitUntilServing(target, child, output);
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  target.description = 'soketi 1.6.1 on uWS 20.30 (trufflesuite republish), local adapter';
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

export function startTarget(kind, { peerDir, nodeOptions }) {
  if (kind === 'soketi') return startSoketi(peerDir);
  if (kind === 'uws' || kind === 'ws') return startReverb(kind, nodeOptions);
  throw new Error(`unknown target ${kind} (expected uws, ws or soketi)`);
}
