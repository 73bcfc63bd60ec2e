/** Several `reverb start` processes sharing one private Redis, and what their presence clients see, for scaling tests. */
import { randomBytes } from 'node:crypto';
import { startRedis, type TestRedis } from './redis.js';
import { startServer, type StartedServer, type StartOptions } from './server.js';
import type { Frame, RawClient } from './ws-client.js';

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

/**
 * What one client was told about a presence channel's members, replayed from
 * its frames: the `subscription_succeeded` list, then every member_added and
 * member_removed. A member_added for a member or a member_removed for a
 * non-member is a protocol error and throws.
 */
export class MemberView {
  readonly members: Set<string>;
  /** The membership events seen since subscribing, as `+id` / `-id`. */
  readonly events: string[] = [];
  /** The first protocol error, thrown again by every later catchUp (so a retrying wait cannot step over it). */
  private violation: Error | undefined;

  private constructor(
    private readonly client: RawClient,
    succeeded: Frame,
  ) {
    const ids = (JSON.parse(succeeded.data as string) as { presence: { ids: unknown[] } }).presence.ids;
    this.members = new Set(ids.map(String));
  }

  /**
   * Subscribes the client to a presence channel and starts the view at its
   * `subscription_succeeded`. Membership events that arrive before it (other
   * joins racing this one) are skipped: the member list replaces them, as in pusher-js.
   */
  static async subscribe(client: RawClient, channel: string, options: Parameters<RawClient['subscribe']>[1]): Promise<MemberView> {
    let frame = await client.subscribe(channel, options);
    while (frame.event !== 'pusher_internal:subscription_succeeded') {
      if (!frame.event.startsWith('pusher_internal:member_')) throw new Error(`subscribing to ${channel} failed: ${JSON.stringify(frame)}`);
      frame = await client.next();
    }
    return new MemberView(client, frame);
  }

  /** Applies the frames received so far (other frames are skipped). */
  catchUp(): void {
    if (this.violation) throw this.violation;
    while (this.client.frames.length > 0) {
      const frame = JSON.parse(this.client.frames.shift()!) as Frame;
      if (frame.event !== 'pusher_internal:member_added' && frame.event !== 'pusher_internal:member_removed') continue;
      const userId = String((JSON.parse(frame.data as string) as { user_id: unknown }).user_id);
      const added = frame.event === 'pusher_internal:member_added';
      if (added === this.members.has(userId)) {
        this.violation = new Error(`${frame.event} for ${userId}, who was ${added ? 'already' : 'not'} a member`);
        throw this.violation;
      }
      if (added) this.members.add(userId);
      else this.members.delete(userId);
      this.events.push(`${added ? '+' : '-'}${userId}`);
    }
  }

  sorted(): string[] {
    return [...this.members].sort();
  }
}
