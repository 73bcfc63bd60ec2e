/**
 * An app changed through reverb-ts (`reverb apps:*`): one message on the
 * installation's control topic makes every server look the app up again at
 * once, instead of within the apps cache's TTL.
 */
import type { ScalingConfig } from '../config/types.js';
import { withRedis } from './redis-connection.js';

/** Returns how many servers were listening. */
export function publishAppChanged(scaling: ScalingConfig, appId: string): Promise<number> {
  return withRedis(scaling.server, 'reverb-ts:apps', (redis) => redis.publish(`${scaling.channel}:control`, JSON.stringify({ type: 'app', id: appId })));
}
