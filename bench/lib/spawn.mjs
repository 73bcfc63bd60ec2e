/** Process plumbing shared by the servers the bench starts (reverb-ts, soketi, redis-server). */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

function portFree(port) {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort(true)));
  });
}

/** A port with `span - 1` free ports after it (soketi also takes PORT+1 and PORT+2). */
export async function freePorts(span) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const all = await Promise.all(Array.from({ length: span }, (_, k) => portFree(port + k)));
    if (all.every(Boolean)) return port;
  }
  throw new Error('no free port found');
}

/** A child with its last 4 000 characters of output kept for error messages. */
export function spawnServer(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => output };
}

export async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
