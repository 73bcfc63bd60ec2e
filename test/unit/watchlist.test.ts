import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../src/protocol/connection.js';
import { MAX_WATCHLIST, Watchers, readWatchlist } from '../../src/protocol/watchlist.js';

/** A connection that records the watchlist frames it is sent. */
function watcher(): { connection: Connection; events: string[] } {
  const events: string[] = [];
  const send = (text: string) => {
    const { events: [event] } = JSON.parse((JSON.parse(text) as { data: string }).data) as { events: { name: string; user_ids: string[] }[] };
    events.push(`${event!.name}:${event!.user_ids.join(',')}`);
  };
  return { connection: { send } as unknown as Connection, events };
}

describe('watchlist', () => {
  it('reads the ids of user_data.watchlist as strings, once each, at most 100', () => {
    assert.deepEqual(readWatchlist({ watchlist: [1, '2', 2, null, { id: 3 }, 4.5] }), ['1', '2', '4.5']);
    assert.deepEqual(readWatchlist({ watchlist: 'nope' }), []);
    assert.equal(readWatchlist({ watchlist: Array.from({ length: 150 }, (_, i) => i) }).length, MAX_WATCHLIST);
  });

  it('tells each watcher only changes: an answer and an event that both say online give one online', () => {
    const watchers = new Watchers();
    const a = watcher();
    const b = watcher();
    watchers.watch(a.connection, ['x', 'y']);
    watchers.watch(b.connection, ['y']);
    watchers.notify('online', ['x']);
    watchers.tell(a.connection, 'online', ['x', 'y']);
    watchers.notify('online', ['y']);
    watchers.notify('offline', ['x', 'z']);
    watchers.notify('offline', ['x']);
    assert.deepEqual(a.events, ['online:x', 'online:y', 'offline:x']);
    assert.deepEqual(b.events, ['online:y']);
    watchers.unwatch(a.connection, ['x', 'y']);
    watchers.notify('offline', ['y']);
    assert.deepEqual(a.events.length, 3, 'an unwatched connection hears nothing');
    assert.deepEqual(b.events, ['online:y', 'offline:y']);
  });
});
