/**
 * One channel on this server: its local subscribers (for fan-out) and, on
 * presence channels, how many local connections each user has (so the cluster
 * is told only about a user's first and last connection here).
 */
import type { PresenceMember } from '../cluster.js';
import type { PreparedFrame } from '../socket.js';
import type { Connection } from '../connection.js';
import { channelKind, type ChannelKind } from './names.js';

interface LocalMember {
  member: PresenceMember;
  connections: number;
}

export class Channel {
  readonly kind: ChannelKind;
  /** Subscribed connections and, on presence channels, the member each one joined as. */
  readonly subscribers = new Map<Connection, PresenceMember | undefined>();
  /** Presence users with connections on this server, in join order. */
  readonly localMembers = new Map<string, LocalMember>();

  constructor(readonly name: string) {
    this.kind = channelKind(name);
  }

  get isEmpty(): boolean {
    return this.subscribers.size === 0;
  }

  /** Adds a subscriber; returns true when this is the user's first connection on this server. */
  add(connection: Connection, member: PresenceMember | undefined): boolean {
    this.subscribers.set(connection, member);
    if (!member) return false;
    const local = this.localMembers.get(member.userId);
    if (local) {
      local.connections++;
      return false;
    }
    this.localMembers.set(member.userId, { member, connections: 1 });
    return true;
  }

  /**
   * Removes a subscriber; returns the member when that was the user's last
   * connection on this server (undefined otherwise). That is the member as
   * first announced, so member_removed echoes the same user_id JSON as
   * member_added even when tabs sent 5 and "5".
   */
  remove(connection: Connection): PresenceMember | undefined {
    if (!this.subscribers.has(connection)) return undefined;
    const member = this.subscribers.get(connection);
    this.subscribers.delete(connection);
    if (!member) return undefined;
    const local = this.localMembers.get(member.userId);
    if (!local) return undefined;
    if (--local.connections > 0) return undefined;
    this.localMembers.delete(member.userId);
    return local.member;
  }

  /** Writes the prepared frame to every subscriber except one. */
  broadcast(frame: PreparedFrame, except: Connection | undefined): number {
    let delivered = 0;
    for (const connection of this.subscribers.keys()) {
      if (connection === except) continue;
      connection.deliver(frame);
      delivered++;
    }
    return delivered;
  }
}
