/** `reverb restart`: prints what src/ops/restart.ts did. */
import { restartLocalServers } from '../ops/restart.js';

function servers(count: number): string {
  return `${count} server${count === 1 ? '' : 's'}`;
}

export async function runRestart(): Promise<void> {
  const cwd = process.cwd();
  console.log('Broadcasting Reverb restart signal.');
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
