/**
 * Cluster faults: a server killed with SIGKILL, Redis stopped and started in
 * the middle of a test, and a race of 200 presence joins and leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiClient, eventually } from '../helpers/clients.js';
import { MemberView, startCluster, type TestCluster } from '../helpers/cluster.js';
import { DEFAULT_APP, type StartedServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const KEYS = { key: DEFAULT_APP.key, secret: DEFAULT_APP.secret };

function connect(server: StartedServer): Promise<RawClient> {
  return RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
}

function presence(userId: string) {
  return { ...KEYS, channelData: { user_id: userId, user_info: { name: userId } } };
}

async function getJson(server: StartedServer, path: string, params: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return (await (await apiClient(server).get({ path, params })).json()) as Record<string, unknown>;
}

async function userIds(server: StartedServer, channel: string): Promise<string[]> {
  const body = (await getJson(server, `/channels/${channel}/users`)) as { users: { id: string }[] };
  return body.users.map((user) => user.id).sort();
}

describe('a server killed with SIGKILL', () => {
  let cluster: TestCluster;
  const clients: RawClient[] = [];

  before(async () => {
    cluster = await startCluster(2, { nodeTimeout: 1.5 });
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.stop();
  });

  it('is noticed within the node timeout: its members get member_removed and its counts disappear', async () => {
    const [survivor, doomed] = cluster.servers as [StartedServer, StartedServer];
    const observer = await connect(survivor);
    const victim = await connect(doomed);
    clients.push(observer, victim);
    await observer.subscribe('presence-crash', presence('observer'));
    await victim.subscribe('presence-crash', presence('victim'));
    await victim.subscribe('public-crash');
    await observer.nextEvent('pusher_internal:member_added');
    assert.deepEqual(await userIds(survivor, 'presence-crash'), ['observer', 'victim']);

    const killedAt = Date.now();
    doomed.process.kill('SIGKILL');
    const removed = await observer.nextEvent('pusher_internal:member_removed', 6000);
    assert.equal(removed.data, '{"user_id":"victim"}');
    assert.ok(Date.now() - killedAt < 4000, 'noticed within a bounded time (node_timeout 1.5 s plus check intervals)');
    assert.deepEqual(await userIds(survivor, 'presence-crash'), ['observer']);
    assert.deepEqual(await getJson(survivor, '/channels/public-crash', { info: 'subscription_count' }), { occupied: false });
    assert.deepEqual(await getJson(survivor, '/connections'), { connections: 1 });
  });
});

describe('a Redis outage in the middle of a test', () => {
  let cluster: TestCluster;
  const clients: RawClient[] = [];

  before(async () => {
    cluster = await startCluster(2);
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.stop();
  });

  it('keeps serving local clients, then resynchronises the cluster when Redis returns', async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    const onA = await connect(a);
    const onB = await connect(b);
    clients.push(onA, onB);
    await onA.subscribe('presence-outage', presence('ann'));
    await onB.subscribe('presence-outage', presence('bob'));
    await onA.nextEvent('pusher_internal:member_added');

    await cluster.redis.stop();
    // Local delivery goes on: an API event on A reaches A's client, and the API answers.
    await eventually(async () => {
      const response = await apiClient(a).trigger('presence-outage', 'during', { n: 1 });
      assert.equal(response.status, 200);
    });
    assert.equal((await onA.nextEvent('during')).channel, 'presence-outage');
    onA.send({ event: 'pusher:ping', data: {} });
    assert.equal((await onA.nextEvent('pusher:pong')).event, 'pusher:pong');
    // A client joining B during the outage is served by B alone.
    const late = await connect(b);
    clients.push(late);
    assert.equal((await late.subscribe('presence-outage', presence('cat'))).event, 'pusher_internal:subscription_succeeded');

    await cluster.redis.start();
    // Redis came back empty: both servers re-register, and cross-server delivery works again.
    await eventually(async () => assert.deepEqual(await userIds(a, 'presence-outage'), ['ann', 'bob', 'cat']), 10_000);
    assert.deepEqual(await userIds(b, 'presence-outage'), ['ann', 'bob', 'cat']);
    await eventually(async () => {
      await apiClient(a).trigger('presence-outage', 'after', { n: 2 });
      assert.equal((await onB.nextEvent('after', 300)).channel, 'presence-outage');
    }, 10_000);
    assert.deepEqual(await getJson(b, '/channels/presence-outage', { info: 'subscription_count,user_count' }), {
      occupied: true,
      user_count: 3,
      subscription_count: 3,
    });
    for (const server of [a, b]) {
      assert.equal(server.process.exitCode, null, 'the server kept running');
      assert.equal(server.output().match(/Redis connection lost/g)?.length, 1, 'the outage is logged once');
    }
  });
});

describe('200 presence joins and leaves racing over three servers', () => {
  let cluster: TestCluster;
  const open = new Set<RawClient>();

  before(async () => {
    cluster = await startCluster(3);
  });
  after(async () => {
    for (const client of open) client.close();
    await cluster.stop();
  });

  it('ends with exactly the right members and a consistent member_added/member_removed sequence on every client that stayed', async () => {
    const servers = cluster.servers;
    const observer = await connect(servers[0]!);
    open.add(observer);
    const view = await MemberView.subscribe(observer, 'presence-race', presence('observer'));

    const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const operations = Array.from({ length: 200 }, (_, i) => ({
      user: users[(i * 7) % users.length]!,
      server: servers[i % servers.length]!,
      // Two thirds of the connections leave again, some by unsubscribe and some by disconnect.
      leave: i % 3 === 0 ? 'stay' : i % 3 === 1 ? 'unsubscribe' : 'disconnect',
    }));

    const stayed = new Set<string>();
    const views = [view];
    for (let start = 0; start < operations.length; start += 25) {
      await Promise.all(
        operations.slice(start, start + 25).map(async (operation) => {
          const client = await connect(operation.server);
          open.add(client);
          // Confirmed before leaving; a stayer's member list must end right too, although other joins race its own.
          const view = await MemberView.subscribe(client, 'presence-race', presence(operation.user));
          if (operation.leave === 'stay') {
            views.push(view);
            stayed.add(operation.user);
          } else if (operation.leave === 'unsubscribe') {
            client.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-race' } });
          } else {
            client.close();
            open.delete(client);
          }
        }),
      );
    }

    const expected = ['observer', ...stayed].sort();
    // Replay each stream: every added user must be absent, every removed user present.
    await eventually(() => {
      for (const each of views) {
        each.catchUp();
        assert.deepEqual(each.sorted(), expected);
      }
    }, 10_000);
    for (const server of servers) assert.deepEqual(await userIds(server, 'presence-race'), expected);
    await observer.expectSilence(300);
  });
});
