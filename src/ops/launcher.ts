/**
 * `npm start` and `npx reverb start` (pnpm and yarn alike) run the server
 * under a shell (`sh -c`). A SIGTERM sent to the package manager is passed to
 * that shell, which exits without passing it on: the server would be left
 * running, orphaned and holding its port, after `kill`, `supervisorctl stop`
 * (without stopasgroup) or `docker stop` of the package manager. So a server
 * launched by a package manager watches its parent and shuts down gracefully
 * when the parent is gone (the kernel then hands the server to another
 * parent). A server started any other way, e.g. `nohup reverb start &` from a
 * shell that then exits, is left alone.
 */
import { requestRestart } from './shutdown.js';

const CHECK_INTERVAL_MS = 1000;

export function stopWhenLauncherExits(): void {
  const launcher = process.env.npm_lifecycle_event;
  if (!launcher) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    requestRestart(`The package manager that launched this server (${launcher}) exited`);
  }, CHECK_INTERVAL_MS);
  timer.unref();
}
