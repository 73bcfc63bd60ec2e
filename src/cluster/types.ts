/**
 * What the protocol needs from "the cluster": delivery to every server, and the
 * shared state behind presence, counts and cache channels. A single server is a
 * cluster of one (LocalCluster); the Redis implementation shares the same interface.
 */

/** A presence member as given by the (signed) `channel_data`. */
export interface PresenceMember {
  /** `user_id` as a string: the identity used for de-duplication. */
  readonly userId: string;
  /** `user_id` exactly as it was sent (JSON text), echoed back to clients. */
  readonly userIdJson: string;
  /** `user_info` (any JSON value), or undefined when absent. */
  readonly userInfo: unknown;
  /** The whole channel_data object re-encoded: the `member_added` payload. */
  readonly channelDataJson: string;
}

/** A frame to deliver to the subscribers of one channel, except one socket. */
export interface ChannelDelivery {
  readonly appId: string;
  readonly channel: string;
  readonly frame: string;
  readonly exceptSocketId?: string;
}

export interface ChannelCounts {
  readonly subscriptionCount: number;
  /** Distinct users (presence channels only). */
  readonly userCount: number;
}

export interface Cluster {
  /** Delivers a frame to the channel's subscribers on every server, this one included. */
  publish(delivery: ChannelDelivery): void;

  /**
   * A user's first connection on this server joined a presence channel.
   * Resolves to whether the user is new to the channel cluster-wide, and the
   * member list to send in `subscription_succeeded`.
   */
  presenceJoined(appId: string, channel: string, member: PresenceMember): Promise<{ added: boolean; members: readonly PresenceMember[] }>;
  /** A user's last connection on this server left; resolves to whether the user left the channel cluster-wide. */
  presenceLeft(appId: string, channel: string, userId: string): Promise<boolean>;
  /** Distinct members of a presence channel, in join order. */
  presenceMembers(appId: string, channel: string): Promise<readonly PresenceMember[]>;

  /** Remembers the last event of a cache channel for `ttlSeconds`. */
  cacheStore(appId: string, channel: string, frame: string, ttlSeconds: number): void;
  cachedFrame(appId: string, channel: string): Promise<string | undefined>;

  /** Counts for one channel; zero counts when nobody is subscribed. */
  channelCounts(appId: string, channel: string): Promise<ChannelCounts>;
  /** Every occupied channel of the app with its counts. */
  occupiedChannels(appId: string): Promise<ReadonlyMap<string, ChannelCounts>>;
  /** Open connections of the app. */
  connectionCount(appId: string): Promise<number>;
  /** Closes every connection of the user on every server. */
  terminateUser(appId: string, userId: string): Promise<void>;

  close(): Promise<void>;
}
