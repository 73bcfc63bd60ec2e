/**
 * Reads of the shared state for the HTTP API: one round trip each, answered
 * within the link's deadline or refused with ClusterUnavailable (the API
 * answers 503; see docs/scaling.md, "When Redis fails").
 */
import type { Redis } from 'ioredis';
import type { RedisLink } from './redis-link.js';
import { ClusterUnavailable, type ChannelCounts, type PresenceMember } from '../protocol/cluster.js';

/** `<ns>:app:<app id>:<suffix>`, the keys listed in redis-scripts.ts. */
export function appKey(ns: string, appId: string, suffix: string): string {
  return `${ns}:app:${appId}:${suffix}`;
}

/** The values of a pipeline's replies; the first error among them rejects (each one, not just the pipeline). */
function pipelineValues(results: [Error | null, unknown][] | null): unknown[] {
  const values: unknown[] = [];
  for (const [error, value] of results ?? []) {
    if (error) throw new ClusterUnavailable(`Redis failed: ${error.message}`);
    values.push(value);
  }
  return values;
}

export class RedisQueries {
  constructor(
    private readonly command: Redis,
    private readonly link: RedisLink,
    private readonly ns: string,
  ) {}

  async presenceMembers(appId: string, channel: string): Promise<readonly PresenceMember[]> {
    const members = await this.link.ask(() => this.command.hvals(appKey(this.ns, appId, `members:${channel}`)));
    return members.map((json) => JSON.parse(json) as PresenceMember);
  }

  async cachedFrame(appId: string, channel: string): Promise<string | undefined> {
    return (await this.link.ask(() => this.command.get(appKey(this.ns, appId, `cache:${channel}`)))) ?? undefined;
  }

  async channelCounts(appId: string, channel: string): Promise<ChannelCounts> {
    const pipeline = this.command.pipeline();
    pipeline.hget(appKey(this.ns, appId, 'channels'), channel).hget(appKey(this.ns, appId, 'user_counts'), channel);
    const [subscriptions, users] = pipelineValues(await this.link.ask(() => pipeline.exec()));
    return { subscriptionCount: Number(subscriptions ?? 0), userCount: Number(users ?? 0) };
  }

  async occupiedChannels(appId: string): Promise<ReadonlyMap<string, ChannelCounts>> {
    const pipeline = this.command.pipeline();
    pipeline.hgetall(appKey(this.ns, appId, 'channels')).hgetall(appKey(this.ns, appId, 'user_counts'));
    const [channels, users] = pipelineValues(await this.link.ask(() => pipeline.exec())) as (Record<string, string> | undefined)[];
    const out = new Map<string, ChannelCounts>();
    for (const [name, count] of Object.entries(channels ?? {})) {
      out.set(name, { subscriptionCount: Number(count), userCount: Number(users?.[name] ?? 0) });
    }
    return out;
  }

  async connectionCount(appId: string): Promise<number> {
    const counts = await this.link.ask(() => this.command.hvals(appKey(this.ns, appId, 'connections')));
    return counts.reduce((sum, count) => sum + Number(count), 0);
  }
}
