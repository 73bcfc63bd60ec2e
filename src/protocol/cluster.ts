/**
 * What the protocol needs from "the cluster": delivery to every server, and the
 * shared state behind presence, counts and cache channels. A single server is a
 * cluster of one (LocalCluster); the Redis implementation shares the same interface.
 */

import type { LimitName } from './observer.js';
import type { RateSpend } from './rate-windows.js';

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

/**
 * The shared state could not be read or written in time (Redis down, or not
 * answering within the deadline). The HTTP API answers it with 503 and the
 * message; nothing on a WebSocket path ever sees it (those calls always answer).
 */
export class ClusterUnavailable extends Error {
  override readonly name = 'ClusterUnavailable';
}

export interface Cluster {
  /**
   * Spends `points` of an app's per-second `name` limit, counted across the
   * cluster (HTTP API limits: one budget for the app, whichever server a
   * request reaches).
   */
  spendRate(appId: string, name: LimitName, points: number, limit: number): RateSpend | Promise<RateSpend>;

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
  /** Distinct members of a presence channel, in join order (HTTP API; may reject with ClusterUnavailable). */
  presenceMembers(appId: string, channel: string): Promise<readonly PresenceMember[]>;
  /**
   * The member list that confirms one more subscription to a presence channel
   * this server's clients are already in (a user's second tab, a repeated
   * subscribe). Always answers: from what this server's clients were told when
   * the shared state cannot be read in time.
   */
  membersForSubscriber(appId: string, channel: string): Promise<readonly PresenceMember[]>;

  /** Remembers the last event of a cache channel for `ttlSeconds`. */
  cacheStore(appId: string, channel: string, frame: string, ttlSeconds: number): void;
  /** Always answers: this server's copy when the shared one cannot be read in time. */
  cachedFrame(appId: string, channel: string): Promise<string | undefined>;

  /** Counts for one channel; zero counts when nobody is subscribed (may reject with ClusterUnavailable). */
  channelCounts(appId: string, channel: string): Promise<ChannelCounts>;
  /**
   * The channel's subscriber count for a `subscription_count` webhook, or
   * undefined when it is the count last announced for the channel anywhere in
   * the cluster: servers that saw changes in the same period announce the
   * current count once (may reject with ClusterUnavailable).
   */
  subscriptionCountToAnnounce(appId: string, channel: string): Promise<number | undefined>;
  /** Every occupied channel of the app with its counts (may reject with ClusterUnavailable). */
  occupiedChannels(appId: string): Promise<ReadonlyMap<string, ChannelCounts>>;
  /** Open connections of the app (may reject with ClusterUnavailable). */
  connectionCount(appId: string): Promise<number>;
  /**
   * Closes every connection of the user on every server. Rejects with
   * ClusterUnavailable when only this server's could be closed.
   */
  terminateUser(appId: string, userId: string): Promise<void>;

  /**
   * A user's first signed-in connection on this server came (`online`) or
   * their last one went. The cluster calls the server's `watchlistChanged`
   * (on every server) when that makes the user online or offline cluster-wide.
   */
  userPresence(appId: string, userId: string, online: boolean): void;
  /** Which of these users have a signed-in connection anywhere. */
  onlineUsers(appId: string, userIds: readonly string[]): Promise<ReadonlySet<string>>;

  close(): Promise<void>;
}
