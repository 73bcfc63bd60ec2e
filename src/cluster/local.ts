/**
 * The cluster of one: delivery is a direct call and every answer comes from
 * this server's own channels, so a single server needs no extra bookkeeping.
 */
import type { PusherServer } from '../protocol/server.js';
import type { ChannelCounts, ChannelDelivery, Cluster, PresenceMember } from '../protocol/cluster.js';
import type { Channel } from '../protocol/channels/channel.js';
import { CacheStore } from './cache.js';
import { memberAddedFrame, memberRemovedFrame } from '../protocol/presence.js';
import type { LimitName } from '../protocol/observer.js';
import { RateWindows, type RateSpend } from '../protocol/rate-windows.js';

const EMPTY: ChannelCounts = { subscriptionCount: 0, userCount: 0 };

function counts(channel: Channel): ChannelCounts {
  return { subscriptionCount: channel.subscribers.size, userCount: channel.localMembers.size };
}

export class LocalCluster implements Cluster {
  private server: PusherServer | undefined;
  private readonly cache = new CacheStore();
  private readonly rates = new RateWindows();
  /** Subscriber counts last announced in subscription_count webhooks, by app and channel (none for 0). */
  private readonly announced = new Map<string, number>();

  attach(server: PusherServer): void {
    this.server = server;
  }

  private channel(appId: string, name: string): Channel | undefined {
    return this.server?.appsById.get(appId)?.channels.get(name);
  }

  private members(appId: string, name: string): PresenceMember[] {
    const channel = this.channel(appId, name);
    return channel ? [...channel.localMembers.values()].map((local) => local.member) : [];
  }

  spendRate(appId: string, name: LimitName, points: number, limit: number): RateSpend {
    return this.rates.spend(appId, name, points, limit);
  }

  publish(delivery: ChannelDelivery): void {
    this.server?.deliver(delivery);
  }

  subscribed(appId: string, channel: string, firstLocal: boolean): void {
    if (firstLocal) this.server?.channelEvents.channelOccupied(appId, channel);
  }

  unsubscribed(appId: string, channel: string, lastLocal: boolean): void {
    if (lastLocal) this.server?.channelEvents.channelVacated(appId, channel);
  }

  connectionsChanged(): void {}

  async presenceJoined(
    appId: string,
    channel: string,
    member: PresenceMember,
    socketId: string,
    maxMembers: number,
  ): Promise<readonly PresenceMember[] | undefined> {
    // The joining user is already among this server's members (the protocol added it first).
    const members = this.members(appId, channel);
    if (members.length > maxMembers) return undefined;
    this.publish({ appId, channel, frame: memberAddedFrame(channel, member), exceptSocketId: socketId });
    this.server?.channelEvents.memberAdded(appId, channel, member.userId);
    return members;
  }

  async presenceLeft(appId: string, channel: string, member: PresenceMember): Promise<void> {
    this.publish({ appId, channel, frame: memberRemovedFrame(channel, member) });
    this.server?.channelEvents.memberRemoved(appId, channel, member.userId);
  }

  async presenceMembers(appId: string, channel: string): Promise<readonly PresenceMember[]> {
    return this.members(appId, channel);
  }

  async membersForSubscriber(appId: string, channel: string): Promise<readonly PresenceMember[]> {
    return this.members(appId, channel);
  }

  cacheStore(appId: string, channel: string, frame: string, ttlSeconds: number): void {
    this.cache.store(`${appId}\n${channel}`, frame, ttlSeconds);
  }

  async cachedFrame(appId: string, channel: string): Promise<string | undefined> {
    return this.cache.get(`${appId}\n${channel}`);
  }

  async subscriptionCountToAnnounce(appId: string, name: string): Promise<number | undefined> {
    const count = this.channel(appId, name)?.subscribers.size ?? 0;
    const key = `${appId}\n${name}`;
    if ((this.announced.get(key) ?? 0) === count) return undefined;
    if (count === 0) this.announced.delete(key);
    else this.announced.set(key, count);
    return count;
  }

  async channelCounts(appId: string, name: string): Promise<ChannelCounts> {
    const channel = this.channel(appId, name);
    return channel ? counts(channel) : EMPTY;
  }

  async occupiedChannels(appId: string): Promise<ReadonlyMap<string, ChannelCounts>> {
    const out = new Map<string, ChannelCounts>();
    for (const [name, channel] of this.server?.appsById.get(appId)?.channels ?? []) {
      if (!channel.isEmpty) out.set(name, counts(channel));
    }
    return out;
  }

  async connectionCount(appId: string): Promise<number> {
    return this.server?.appsById.get(appId)?.connections.size ?? 0;
  }

  userPresence(appId: string, userId: string, online: boolean): void {
    this.server?.watchlistChanged(appId, online ? 'online' : 'offline', [userId]);
  }

  async onlineUsers(appId: string, userIds: readonly string[]): Promise<ReadonlySet<string>> {
    const signedIn = this.server?.appsById.get(appId)?.signedIn;
    return new Set(userIds.filter((userId) => signedIn?.has(userId)));
  }

  async terminateUser(appId: string, userId: string): Promise<void> {
    this.server?.terminateLocalUser(appId, userId);
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
