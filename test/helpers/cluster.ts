/** Several `reverb start` processes sharing one private Redis, for scaling tests. */
import { randomBytes } from 'node:crypto';
import { startRedis, type TestRedis } from './redis.js';
import { startServer, type StartedServer, type StartOptions } from './server.js';

export interface TestCluster {
  readonly redis: TestRedis;
  readonly servers: StartedServer[];
  /** The REVERB_SCALING_CHANNEL namespace of this cluster. */
  readonly namespace: string;
  stop(): Promise<void>;
}

export async function startCluster(size: number, options: StartOptions & { nodeTimeout?: number } = {}): Promise<TestCluster> {
  const redis = await startRedis();
  const namespace = `reverb-test-${randomBytes(4).toString('hex')}`;
  const scaling = { enabled: true, channel: namespace, node_timeout: options.nodeTimeout ?? 15, server: { url: redis.url } };
  const servers: StartedServer[] = [];
  try {
    for (let i = 0; i < size; i++) servers.push(await startServer({ ...options, server: { ...options.server, scaling } }));
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await redis.stop();
    throw error;
  }
  return {
    redis,
    servers,
    namespace,
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
      await redis.stop();
    },
  };
}
