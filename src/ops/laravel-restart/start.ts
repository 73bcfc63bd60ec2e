/** What `reverb start` does about `php artisan reverb:restart` in a Laravel project. */
import type { RestartSignal } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import { requestRestart } from '../shutdown.js';
import { watchRestartSignal } from './watch.js';

export async function watchLaravelRestart(signal: RestartSignal | null, logger: Logger): Promise<void> {
  if (!signal) return;
  const { store, interval } = signal;
  if (store.driver === 'unsupported') {
    logger.warn(`\`php artisan reverb:restart\` will not reach this server: the default cache store "${store.store}" cannot be read (${store.reason}). Use \`npx reverb restart\`.`);
    return;
  }
  await watchRestartSignal(store, interval, logger, () => requestRestart('Restart signalled through the Laravel cache (php artisan reverb:restart)'));
}
