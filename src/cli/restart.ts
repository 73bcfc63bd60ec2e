/**
 * `reverb restart`: every server of this installation shuts down gracefully
 * and exits 0 for its process manager to start it again. With scaling on the
 * signal goes through Redis and reaches every server on the same Redis and
 * scaling channel, on any machine; otherwise it reaches the servers started
 * from this directory on this machine (src/ops/restart.ts).
 */
import { broadcastRestart } from '../cluster/redis-restart.js';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { RESTART_GRACE_MS, restartLocalServers } from '../ops/restart.js';

export interface RestartFlags {
  config?: string;
  envFile?: string;
}

function servers(count: number): string {
  return `${count} server${count === 1 ? '' : 's'}`;
}

/** The configuration, for scaling; restarting local servers needs none, so a broken one only warns. */
async function readConfig(flags: RestartFlags): Promise<Config | undefined> {
  try {
    return await loadConfig({ configFile: flags.config, envFile: flags.envFile });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${error.message}\nRestarting the servers started from this directory only.`);
    return undefined;
  }
}

async function restartThroughRedis(config: Config): Promise<boolean> {
  const { scaling, shutdownTimeout } = config.server;
  try {
    const result = await broadcastRestart(scaling, shutdownTimeout * 1000 + RESTART_GRACE_MS);
    console.log(`${servers(result.received)} acknowledged the restart (Redis channel "${scaling.channel}").`);
    console.log(`${result.stopped} of the ${servers(result.registered)} in the cluster have shut down.`);
    if (result.stopped < result.registered) process.exitCode = 1;
    return true;
  } catch (error) {
    console.error(`Cannot reach Redis (${(error as Error).message}): restarting the servers started from this directory only.`);
    return false;
  }
}

async function restartLocally(): Promise<void> {
  const cwd = process.cwd();
  const { signalled, stopped } = await restartLocalServers(cwd);
  if (signalled.length === 0) {
    console.log(`No running Reverb server was started from ${cwd} on this machine.`);
    return;
  }
  for (const entry of signalled) {
    const done = stopped.includes(entry);
    console.log(`  ${done ? 'stopped' : 'still stopping'}: ${entry.host}:${entry.port} (pid ${entry.pid})`);
  }
  console.log(`${servers(stopped.length)} acknowledged the restart.`);
  if (stopped.length < signalled.length) {
    console.error(`${servers(signalled.length - stopped.length)} did not finish shutting down in time.`);
    process.exitCode = 1;
  }
}

export async function runRestart(flags: RestartFlags): Promise<void> {
  const config = await readConfig(flags);
  console.log('Broadcasting Reverb restart signal.');
  if (config?.server.scaling.enabled && (await restartThroughRedis(config))) return;
  await restartLocally();
}
