/**
 * A private redis-server for the cluster runs (as test/helpers/redis.ts does
 * for the tests): loopback, a free port, no persistence, so that a run never
 * touches the machine's Redis and leaves nothing on disk.
 */
import { sleep } from './clock.mjs';
import { freePorts, spawnServer, stopChild } from './spawn.mjs';

const READY = 'Ready to accept connections';

/** `port`: a given one (a restart where the servers expect Redis), else a free one. */
export async function startRedis({ port, timeoutMs = 10_000 } = {}) {
  port ??= await freePorts(1);
  const { child, output } = spawnServer('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  let failure;
  child.once('error', (error) => (failure = error));
  const deadline = Date.now() + timeoutMs;
  try {
    while (!output().includes(READY)) {
      if (failure) throw new Error(`redis-server could not be started (${failure.message}); is it installed?`);
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${output()}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not start within ${timeoutMs} ms:\n${output()}`);
      await sleep(50);
    }
  } catch (error) {
    if (!failure) await stopChild(child, 2000);
    throw error;
  }
  const version = /Redis version=([^,\s]+)/.exec(output())?.[1] ?? 'unknown';
  return { port, url: `redis://127.0.0.1:${port}`, pid: child.pid, version, stop: () => stopChild(child) };
}
