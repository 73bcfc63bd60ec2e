/**
 * Embedding API: `import { createServer } from 'reverb-ts'` runs the same
 * server the CLI runs, configured with an object shaped like Laravel's
 * config/reverb.php (snake_case keys), on top of Reverb's env-driven defaults.
 */
import { reverbDefaults, type RawConfig } from './config/defaults.js';
import { mergeConfig } from './config/index.js';
import { validateConfig } from './config/schema.js';
import type { Config } from './config/types.js';
import type { ServerHooks } from './observability/hooks.js';
import type { Logger } from './observability/logger.js';
import { startServer, type RunningServer } from './server.js';

export type { Config, AppConfig, ServerConfig } from './config/types.js';
export type { ServerHooks, ConnectionInfo } from './observability/hooks.js';
export type { RunningServer } from './server.js';
export { loadConfig, ConfigError } from './config/index.js';
export { createLogger } from './observability/logger.js';

export interface CreateServerOptions {
  /** Reverb-shaped configuration; keys it sets override the environment defaults. */
  readonly config?: RawConfig;
  /** Environment for the defaults (process.env by default). */
  readonly env?: NodeJS.ProcessEnv;
  readonly hooks?: ServerHooks;
  readonly logger?: Logger;
  readonly debug?: boolean;
}

export function resolveConfig(raw: RawConfig = {}, env: NodeJS.ProcessEnv = process.env, debug = false): Config {
  return validateConfig(mergeConfig(reverbDefaults(env), raw), { debug, baseDir: process.cwd() });
}

export async function createServer(options: CreateServerOptions = {}): Promise<RunningServer> {
  const config = resolveConfig(options.config, options.env, options.debug);
  return startServer({ config, hooks: options.hooks, logger: options.logger });
}
