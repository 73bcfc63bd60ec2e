/**
 * `php artisan reverb:restart` for reverb-ts: like Reverb's server, remember
 * the restart key's value at start and look at it again every few seconds
 * (5 s, as Reverb); when it differs, restart gracefully (4200 to every
 * client, exit 0 for the process manager). A store that cannot be reached is
 * retried at the same pace and reported once per outage.
 */
import type { Logger } from '../../observability/logger.js';
import { describeStore, openCacheReader, type CacheReader, type ReadableStore } from './reader.js';

/** Resolves once the value at start is known (or the store found unreachable), so a signal sent after that is seen. */
export async function watchRestartSignal(store: ReadableStore, intervalSeconds: number, logger: Logger, onRestart: () => void): Promise<void> {
  let reader: CacheReader | undefined;
  let baseline: string | null | undefined;
  let failing = false;

  const check = async () => {
    try {
      reader ??= await openCacheReader(store);
      const value = await reader.read();
      if (failing) logger.info(`The restart signal can be read again (${describeStore(store)}).`);
      failing = false;
      if (baseline === undefined) baseline = value;
      else if (value !== baseline) {
        onRestart();
        return;
      }
    } catch (error) {
      if (!failing) logger.warn(`Cannot read the restart signal from the ${describeStore(store)}: ${(error as Error).message}; retrying every ${intervalSeconds} s.`);
      failing = true;
      const broken = reader;
      reader = undefined;
      await broken?.close();
    }
    setTimeout(check, intervalSeconds * 1000).unref();
  };
  await check();
  logger.info(`Watching for \`php artisan reverb:restart\` every ${intervalSeconds} s (${describeStore(store)}).`);
}
