/** The application provider a configuration asks for (`apps.provider`). */
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { ApplicationProvider } from '../protocol/apps.js';
import { CachedApplicationProvider } from './cached-provider.js';
import { ConfigApplicationProvider } from './config-provider.js';
import { openAppStore } from './database/open-store.js';

export async function createApplicationProvider(config: Config, logger: Logger, queried?: () => void): Promise<ApplicationProvider> {
  const provider = config.appProvider;
  if (provider.kind === 'config') return new ConfigApplicationProvider(config.apps);
  const { database, table } = provider;
  const source = `${table} (${database.driver}${database.url ? '' : ` ${database.host}:${database.port}/${database.database}`})`;
  logger.info(`Apps: from the table ${source}, held in memory for ${provider.cacheTtl} s`);
  return new CachedApplicationProvider(await openAppStore(database, table), {
    ttlSeconds: provider.cacheTtl,
    source,
    warn: (message) => logger.warn(message),
    recovered: (message) => logger.info(message),
    queried,
  });
}
