/**
 * Pusher's watchlist events (opt-in per app, `watchlist_events`): a user who
 * signs in with `user_data.watchlist` (user ids) is told which of them are
 * online — first the ones online now, then every change — in the frame
 * pusher-js reads for `pusher.user.watchlist.bind('online' | 'offline')`.
 * A user is online while one of their signed-in connections exists anywhere
 * in the cluster; the cluster reports those transitions.
 */
import type { Connection } from './connection.js';
import { encodeFrame } from './wire.js';

/** Pusher's limit on watchlist size; ids beyond it are ignored. */
export const MAX_WATCHLIST = 100;

export type WatchlistEvent = 'online' | 'offline';

export function watchlistFrame(name: WatchlistEvent, userIds: readonly string[]): string {
  return encodeFrame('pusher_internal:watchlist_events', JSON.stringify({ events: [{ name, user_ids: userIds }] }));
}

/** The user ids of a signed-in user's `watchlist` (strings or numbers), de-duplicated and capped. */
export function readWatchlist(userData: Record<string, unknown>): string[] {
  const list = userData.watchlist;
  if (!Array.isArray(list)) return [];
  const ids = list.filter((id) => typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))).map(String);
  return [...new Set(ids)].slice(0, MAX_WATCHLIST);
}

/**
 * One app's watchers on this server: which connections watch which user, and
 * which of those users each was told are online — so that a watcher only
 * hears changes, even when the answer to its first question and an event
 * from the cluster cross (both say "online").
 */
export class Watchers {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly toldOnline = new Map<Connection, Set<string>>();

  watch(connection: Connection, userIds: readonly string[]): void {
    this.toldOnline.set(connection, new Set());
    for (const userId of userIds) {
      let watchers = this.byUser.get(userId);
      if (!watchers) this.byUser.set(userId, (watchers = new Set()));
      watchers.add(connection);
    }
  }

  unwatch(connection: Connection, userIds: readonly string[]): void {
    this.toldOnline.delete(connection);
    for (const userId of userIds) {
      const watchers = this.byUser.get(userId);
      if (!watchers) continue;
      watchers.delete(connection);
      if (watchers.size === 0) this.byUser.delete(userId);
    }
  }

  /** Tells one watcher about the users whose state this changes for it. */
  tell(watcher: Connection, name: WatchlistEvent, userIds: readonly string[]): void {
    const told = this.toldOnline.get(watcher);
    if (!told) return;
    const changed = userIds.filter((userId) => (name === 'online') !== told.has(userId));
    if (changed.length === 0) return;
    for (const userId of changed) {
      if (name === 'online') told.add(userId);
      else told.delete(userId);
    }
    watcher.send(watchlistFrame(name, changed));
  }

  /** Tells every local watcher of these users, one frame per watcher with the ids it watches. */
  notify(name: WatchlistEvent, userIds: readonly string[]): void {
    const perWatcher = new Map<Connection, string[]>();
    for (const userId of userIds) {
      for (const watcher of this.byUser.get(userId) ?? []) {
        const ids = perWatcher.get(watcher);
        if (ids) ids.push(userId);
        else perWatcher.set(watcher, [userId]);
      }
    }
    for (const [watcher, ids] of perWatcher) this.tell(watcher, name, ids);
  }
}
