/**
 * `reverb restart` with scaling on: one message on the installation's control
 * topic reaches every server attached to the same Redis and scaling channel,
 * on any machine. Each performs the graceful shutdown and deregisters itself.
 */
import type { ScalingConfig } from '../config/types.js';
import { withRedis } from './redis-connection.js';

export interface RestartResult {
  /** Servers subscribed to the control topic when the signal was published. */
  readonly received: number;
  /** Servers registered before the signal that have since left the cluster (shut down). */
  readonly stopped: number;
  /** Servers registered before the signal. */
  readonly registered: number;
}

export function broadcastRestart(scaling: ScalingConfig, waitMs: number): Promise<RestartResult> {
  return withRedis(scaling.server, 'reverb-ts:restart', async (redis) => {
    const nodesKey = `${scaling.channel}:nodes`;
    const before = await redis.zrange(nodesKey, '0', '-1');
    const received = await redis.publish(`${scaling.channel}:control`, JSON.stringify({ type: 'restart' }));
    const deadline = Date.now() + waitMs;
    let remaining = before;
    while (remaining.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const scores = await redis.zmscore(nodesKey, ...remaining);
      remaining = remaining.filter((_, index) => scores[index] !== null);
    }
    return { received, stopped: before.length - remaining.length, registered: before.length };
  });
}
