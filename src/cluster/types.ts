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
   * A connection of this server subscribed to a channel (`firstLocal`: the
   * channel is new on this server). When a promise is returned, the
   * subscription is confirmed to the client only after it settles, so that
   * events published anywhere afterwards reach it and counts include it.
   */
  subscribed(appId: string, channel: string, firstLocal: boolean): void | Promise<void>;
  /** A connection of this server left a channel (`lastLocal`: nobody here is subscribed any more). */
  unsubscribed(appId: string, channel: string, lastLocal: boolean): void;
  /** The number of this server's connections of an app changed. */
  connectionsChanged(appId: string, localCount: number): void;

  /**
   * A user's first connection on this server joined a presence channel.
   * Publishes `member_added` (to everyone but `socketId`) when the user is new
   * to the channel cluster-wide, atomically with the membership change, and
   * resolves to the member list for `subscription_succeeded` — or to
   * undefined, changing nothing, when a new user would take the channel past
   * `maxMembers` distinct users.
   */
  presenceJoined(
    appId: string,
    channel: string,
    member: PresenceMember,
    socketId: string,
    maxMembers: number,
  ): Promise<readonly PresenceMember[] | undefined>;
  /** A user's last connection on this server left; publishes `member_removed` when the user left the channel cluster-wide. */
  presenceLeft(appId: string, channel: string, member: PresenceMember): Promise<void>;
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
