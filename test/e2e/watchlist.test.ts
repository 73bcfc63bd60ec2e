/**
 * Pusher's watchlist events with the real pusher-js (`pusher.user.watchlist`):
 * the users of a signed-in user's watchlist who are online now, then every
 * change — on one server, and across two servers sharing Redis, where a user
 * is online while any of their signed-in connections exists anywhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { connectPusherJs, waitFor } from '../helpers/clients.js';
import type { Pusher } from '../helpers/pusher-js.js';
import { DEFAULT_APP, startServer, type StartedServer, type TestApp } from '../helpers/server.js';

const WATCHING: TestApp = { ...DEFAULT_APP, watchlist_events: true };

/** Records a client's watchlist events as `online:1,2` / `offline:3`. */
function record(pusher: Pusher): string[] {
  const seen: string[] = [];
  for (const name of ['online', 'offline']) {
    pusher.user.watchlist.bind(name, (event: { user_ids: string[] }) => seen.push(`${name}:${event.user_ids.join(',')}`));
  }
  return seen;
}

/** Signs the client in and waits (bounded) for pusher-js to report it done. */
async function signIn(client: Pusher): Promise<void> {
  client.signin();
  await waitFor('sign-in', (resolve) => void client.user.signinDonePromise.then(resolve));
}

async function until(seen: string[], entry: string): Promise<void> {
  if (seen.includes(entry)) return;
  await waitFor(`watchlist event ${entry} (have ${JSON.stringify(seen)})`, (resolve) => {
    const timer = setInterval(() => seen.includes(entry) && (clearInterval(timer), resolve(undefined)), 10);
  }, 5000);
}

describe('watchlist events', () => {
  describe('on one server', () => {
    let server: StartedServer;
    const clients: Pusher[] = [];
    before(async () => (server = await startServer({ apps: [WATCHING] })));
    after(async () => {
      for (const client of clients) client.disconnect();
      await server.stop();
    });

    const connect = async (id: string, watchlist: string[] = []) => {
      const client = await connectPusherJs(server, { app: WATCHING, userData: { id, watchlist } });
      clients.push(client);
      const seen = record(client);
      await signIn(client);
      return { client, seen };
    };

    it('tells who is online at sign-in, then who comes and goes', async () => {
      const bob = await connect('bob');
      const alice = await connect('alice', ['bob', 'carol', 'dave']);
      await until(alice.seen, 'online:bob');
      const carol = await connect('carol');
      await until(alice.seen, 'online:carol');
      // A second tab of carol changes nothing; closing both makes her offline once.
      const carol2 = await connect('carol');
      carol.client.disconnect();
      carol2.client.disconnect();
      await until(alice.seen, 'offline:carol');
      assert.deepEqual(alice.seen, ['online:bob', 'online:carol', 'offline:carol']);
      assert.deepEqual(bob.seen, [], 'bob watches nobody');
    });
  });

  describe('across two servers', () => {
    let cluster: TestCluster;
    const clients: Pusher[] = [];
    before(async () => (cluster = await startCluster(2, { apps: [WATCHING] })));
    after(async () => {
      for (const client of clients) client.disconnect();
      await cluster.stop();
    });

    it('a user is online while a signed-in connection exists on any server', async () => {
      const connect = async (server: number, id: string, watchlist: string[] = []) => {
        const client = await connectPusherJs(cluster.servers[server]!, { app: WATCHING, userData: { id, watchlist } });
        clients.push(client);
        const seen = record(client);
        await signIn(client);
        return { client, seen };
      };
      const erin = await connect(0, 'erin');
      const watcher = await connect(1, 'watcher', ['erin', 'frank']);
      await until(watcher.seen, 'online:erin');
      const frank = await connect(0, 'frank');
      await until(watcher.seen, 'online:frank');
      // frank also signs in on the other server, then leaves the first: still online.
      const frank2 = await connect(1, 'frank');
      frank.client.disconnect();
      erin.client.disconnect();
      await until(watcher.seen, 'offline:erin');
      frank2.client.disconnect();
      await until(watcher.seen, 'offline:frank');
      assert.deepEqual(watcher.seen, ['online:erin', 'online:frank', 'offline:erin', 'offline:frank']);
    });
  });
});
