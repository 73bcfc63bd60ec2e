/**
 * What this server's clients were last told about the members of each
 * presence channel they are in, so that what they see converges to the truth
 * after Redis faults.
 *
 * While Redis works, every member_added / member_removed reaches every server
 * in Redis's order and a view just follows them. Faults break that: a server
 * answers joins and leaves from its view while Redis cannot be asked (its own
 * clients are told at once, the other servers not), pub/sub messages are lost
 * while a connection is down, and a Redis that comes back empty forgets
 * everyone. So a view also
 * - drops a membership event its clients already know about (a server
 *   re-registering announces members again; a join answered locally during a
 *   stall is announced once more when Redis runs it),
 * - answers a join with Redis's member list at its exact place among the
 *   channel's events (see PendingJoin), and
 * - after a re-registration, is compared with Redis's member list, delivered in
 *   order with the membership events (the sync script publishes it on the
 *   channel's topic), and the difference is sent to the local subscribers.
 *
 * Memory: one entry per member of each presence channel this server's clients
 * are in; work: O(members) per channel, only after a fault.
 */
import type { PusherServer } from '../protocol/server.js';
import { memberAddedFrame, memberRemovedFrame } from '../protocol/presence.js';
import type { PresenceMember } from '../protocol/cluster.js';

type View = Map<string, PresenceMember>;

interface MemberEvent {
  readonly joined: PresenceMember | undefined;
  readonly leftUserId: string | undefined;
}

/**
 * A join waiting for Redis. Its answer (the member list) comes on the command
 * connection and the channel's membership events on the subscriber
 * connection, so either may be read first, while the joining client receives
 * every event delivered before its subscription_succeeded and then takes that
 * list instead (as pusher-js does). The join script also publishes a marker
 * on the channel's topic: the list is exact at the marker, so the answer waits
 * for it and adds the events that came after it.
 */
export class PendingJoin {
  private isMarked = false;
  readonly newer: MemberEvent[] = [];
  private wake!: () => void;
  /** Resolves when the marker came through. */
  readonly marked = new Promise<void>((resolve) => (this.wake = resolve));

  constructor(
    readonly key: string,
    readonly token: string,
  ) {}

  mark(): void {
    this.isMarked = true;
    this.wake();
  }

  /** A membership event of the channel, kept once it is newer than the answer. */
  seen(event: MemberEvent): void {
    if (this.isMarked) this.newer.push(event);
  }
}

const SEP = '\x1f';

/** A member as the scripts publish it; undefined for anything else (nothing on a topic may crash the server). */
function parseMember(json: unknown): PresenceMember | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const member = JSON.parse(json) as PresenceMember | null;
    return typeof member?.userId === 'string' ? member : undefined;
  } catch {
    return undefined;
  }
}

export class PresenceViews {
  private readonly views = new Map<string, View>();
  /** Pending joins by token, and by channel. */
  private readonly joins = new Map<string, PendingJoin>();
  private readonly joinsByChannel = new Map<string, Set<PendingJoin>>();

  constructor(private readonly server: () => PusherServer | undefined) {}

  private deliver(appId: string, channel: string, frame: string, exceptSocketId?: string): void {
    this.server()?.deliver({ appId, channel, frame, exceptSocketId });
  }

  get isEmpty(): boolean {
    return this.views.size === 0;
  }

  /**
   * The members this server's clients were told about, exact at this point of
   * the channel's events; undefined when the channel has no view.
   */
  members(appId: string, channel: string): PresenceMember[] | undefined {
    const view = this.views.get(appId + SEP + channel);
    return view && [...view.values()];
  }

  /** Locally occupied presence channels with a view, for the sync after a re-registration. */
  *channels(): Generator<[appId: string, channel: string]> {
    for (const key of this.views.keys()) {
      const at = key.indexOf(SEP);
      yield [key.slice(0, at), key.slice(at + 1)];
    }
  }

  /** A join named `token` is about to ask Redis. */
  joinStarted(appId: string, channel: string, token: string): PendingJoin {
    const join = new PendingJoin(appId + SEP + channel, token);
    this.joins.set(token, join);
    let pending = this.joinsByChannel.get(join.key);
    if (!pending) this.joinsByChannel.set(join.key, (pending = new Set()));
    pending.add(join);
    return join;
  }

  /** The marker of a join script came through (markers of other servers' joins are not found). */
  marked(token: string): void {
    this.joins.get(token)?.mark();
  }

  /** The join got its answer, or none. */
  joinEnded(join: PendingJoin): void {
    this.joins.delete(join.token);
    const pending = this.joinsByChannel.get(join.key);
    pending?.delete(join);
    if (pending?.size === 0) this.joinsByChannel.delete(join.key);
  }

  /**
   * Redis's answer to a join, `members` as of its marker, with the events
   * after it. The first answer on this server starts the channel's view
   * (`occupied`: clients are still subscribed); later ones do not replace it
   * (the events keep it current).
   */
  joined(join: PendingJoin, members: readonly PresenceMember[], occupied: boolean): PresenceMember[] {
    const list: View = new Map(members.map((member) => [member.userId, member]));
    for (const event of join.newer) {
      if (event.joined) list.set(event.joined.userId, event.joined);
      else if (event.leftUserId !== undefined) list.delete(event.leftUserId);
    }
    if (occupied && !this.views.has(join.key)) this.views.set(join.key, new Map(list));
    return [...list.values()];
  }

  /** Nobody on this server is subscribed to the channel any more. */
  drop(appId: string, channel: string): void {
    this.views.delete(appId + SEP + channel);
  }

  /**
   * A membership event from Redis (`joinedJson` or `leftUserId`): seen by
   * pending joins, applied to the view, and whether to deliver it (false when
   * the clients already know). Channels without a view deliver everything.
   */
  admit(appId: string, channel: string, joinedJson: string | undefined, leftUserId: string | undefined): boolean {
    const key = appId + SEP + channel;
    const joined = joinedJson === undefined ? undefined : parseMember(joinedJson);
    for (const join of this.joinsByChannel.get(key) ?? []) join.seen({ joined, leftUserId });
    const view = this.views.get(key);
    if (!view) return true;
    if (joined) {
      if (view.has(joined.userId)) return false;
      view.set(joined.userId, joined);
      return true;
    }
    if (joinedJson !== undefined) return true;
    return leftUserId !== undefined && view.delete(leftUserId);
  }

  /**
   * A join while Redis cannot be asked: announced to this server's clients if
   * they did not know the user, answered with the view. `localMembers` (the
   * users connected here, the joining one included) start a view that does not
   * exist yet. Undefined when a new user would take the channel past `maxMembers`.
   */
  joinLocally(
    appId: string,
    channel: string,
    member: PresenceMember,
    socketId: string,
    maxMembers: number,
    localMembers: readonly PresenceMember[],
  ): PresenceMember[] | undefined {
    const key = appId + SEP + channel;
    let view = this.views.get(key);
    if (!view) {
      if (localMembers.length > maxMembers) return undefined;
      view = new Map(localMembers.map((local) => [local.userId, local]));
      this.views.set(key, view);
    } else if (!view.has(member.userId)) {
      if (view.size >= maxMembers) return undefined;
      view.set(member.userId, member);
      this.deliver(appId, channel, memberAddedFrame(channel, member), socketId);
    }
    return [...view.values()];
  }

  /**
   * A user's last connection here left while Redis cannot be asked: this
   * server's clients are told at once (should the user still be connected to
   * another server, the sync after the fault announces them again).
   */
  leaveLocally(appId: string, channel: string, member: PresenceMember): void {
    const view = this.views.get(appId + SEP + channel);
    if (view?.delete(member.userId)) this.deliver(appId, channel, memberRemovedFrame(channel, member));
  }

  /**
   * Redis's member list, in order with the membership events: tells this
   * server's clients the difference. `removals` is false while other servers
   * may still be re-registering into a Redis that came back empty (their
   * members are missing from the list only for now).
   */
  sync(appId: string, channel: string, memberJsons: readonly unknown[], removals: boolean): void {
    const view = this.views.get(appId + SEP + channel);
    if (!view) return;
    const truth = new Map<string, PresenceMember>();
    for (const json of memberJsons) {
      const member = parseMember(json);
      if (member) truth.set(member.userId, member);
    }
    if (removals) {
      for (const [userId, member] of view) {
        if (truth.has(userId)) continue;
        view.delete(userId);
        this.deliver(appId, channel, memberRemovedFrame(channel, member));
      }
    }
    for (const [userId, member] of truth) {
      if (view.has(userId)) continue;
      view.set(userId, member);
      this.deliver(appId, channel, memberAddedFrame(channel, member));
    }
  }
}
