/**
 * An app changed through reverb-ts (`reverb apps:*`): one message on the
 * installation's control topic makes every server look the app up again at
 * once, instead of within the apps cache's TTL.
 */
import type { ScalingConfig } from '../config/types.js';
import { createRedis } from './redis-connection.js';

/** Returns how many servers were listening. */
export async function publishAppChanged(scaling: ScalingConfig, appId: string): Promise<number> {
  const redis = createRedis(scaling.server, 'reverb-ts:apps');
  try {
    await redis.connect();
    return await redis.publish(`${scaling.channel}:control`, JSON.stringify({ type: 'app', id: appId }));
  } finally {
    redis.disconnect();
  }
}
