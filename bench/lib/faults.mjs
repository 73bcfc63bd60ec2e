/**
 * The faults the faults scenario puts a cluster target (bench/lib/targets.mjs)
 * through, in order. Each: `start(target)` strikes, `holdMs(options)` is
 * how long after striking it is lifted by `end(target)`; `churn`: clients
 * leave and join meanwhile; `victim(target)`: the server it kills on
 * purpose (not counted as a crash, not sent API traffic); `needs(target)`:
 * whether it can run at all.
 */
import { sleep } from './clock.mjs';

/** The servers of a cluster target still running. */
export function liveServers(target) {
  return target.servers.filter((server) => server.exited() === null);
}

/** How long Redis stays dead before it is started again. */
const REDIS_DOWN_MS = 5000;

export const FAULTS = [
  {
    name: 'Redis SIGSTOP',
    churn: true,
    holdMs: (options) => options.stall * 1000,
    start: (target) => process.kill(target.redisPid, 'SIGSTOP'),
    end: (target) => process.kill(target.redisPid, 'SIGCONT'),
  },
  {
    name: 'Redis killed, restarted',
    churn: true,
    holdMs: () => REDIS_DOWN_MS,
    start: async (target) => {
      process.kill(target.redisPid, 'SIGKILL');
      // Dead before anyone measures "down": the kernel has closed its sockets.
      while (isRunning(target.redisPid)) await sleep(20);
    },
    end: (target) => target.restartRedis(),
  },
  {
    name: 'kill -9 of server B',
    churn: false,
    holdMs: () => 0,
    victim: (target) => target.servers[1],
    needs: (target) => target.servers[1]?.exited() === null,
    needsWhat: 'server B is not running',
    start: async (target) => {
      process.kill(target.servers[1].pid, 'SIGKILL');
      // Gone before the survivors are listed.
      while (target.servers[1].exited() === null) await sleep(20);
    },
    end: async () => undefined,
  },
];

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
