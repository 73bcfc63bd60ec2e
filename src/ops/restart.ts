/**
 * `reverb restart` without scaling: SIGTERM every server started from this
 * working directory on this machine and wait until each has shut down
 * gracefully (its process manager then starts it again).
 */
import { isRegistered, isRunning, runningServers, type ServerEntry } from './registry.js';

export interface RestartReport {
  /** Servers that received the signal. */
  readonly signalled: readonly ServerEntry[];
  /** Those that finished their graceful shutdown in time. */
  readonly stopped: readonly ServerEntry[];
}

/** How long to wait beyond a server's shutdown_timeout (its hard deadline adds a little) before giving up on it. */
export const RESTART_GRACE_MS = 5000;
const POLL_MS = 50;

export async function restartLocalServers(cwd: string, root?: string): Promise<RestartReport> {
  const signalled: ServerEntry[] = [];
  for (const entry of runningServers(cwd, root)) {
    try {
      process.kill(entry.pid, 'SIGTERM');
      signalled.push(entry);
    } catch {
      // Exited between listing and signalling: nothing to restart.
    }
  }
  const deadline = Date.now() + Math.max(0, ...signalled.map((entry) => entry.shutdownTimeout * 1000)) + RESTART_GRACE_MS;
  // A server is done once its record is gone (removed on exit) or its process is;
  // the record check also covers zombies that kill(pid, 0) still reports.
  const done = (entry: ServerEntry) => !isRegistered(entry, root) || !isRunning(entry);
  while (Date.now() < deadline && !signalled.every(done)) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { signalled, stopped: signalled.filter(done) };
}
