/**
 * Redis stalls and outages with two servers: Redis paused with SIGSTOP while
 * every HTTP API endpoint is called (nobody crashes, every request and
 * subscribe is answered within a bound), paused for longer than node_timeout
 * (nobody is removed), and killed and restarted empty while members come and
 * go (every client's member list ends equal to the truth, through exactly the
 * member_added / member_removed it needed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/clients.js';
import { MemberView, startCluster, type TestCluster } from '../helpers/cluster.js';
import { api, post, type ApiResult } from '../helpers/http.js';
import { DEFAULT_APP, type StartedServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const KEYS = { key: DEFAULT_APP.key, secret: DEFAULT_APP.secret };
/** Redis answers are waited for 1 s (src/cluster/redis-link.ts); the rest is room for a loaded 2-CPU machine. */
const ANSWER_BOUND_MS = 4000;

function connect(server: StartedServer): Promise<RawClient> {
  return RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
}

function presence(userId: string) {
  return { ...KEYS, channelData: { user_id: userId, user_info: { name: userId } } };
}

/** Rejects when `promise` takes longer than `ms`, so that no wait in a test is unbounded. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function userIds(server: StartedServer, channel: string): Promise<string[]> {
  const result = await api(server, 'GET', `channels/${channel}/users`);
  assert.equal(result.status, 200, result.body);
  return (result.json() as { users: { id: string }[] }).users.map((user) => user.id).sort();
}

/** Joins a presence channel and starts replaying what the client is told about its members. */
async function joinAs(server: StartedServer, channel: string, userId: string): Promise<{ client: RawClient; view: MemberView }> {
  const client = await connect(server);
  return { client, view: await MemberView.subscribe(client, channel, presence(userId)) };
}

/**
 * ann and amy join `channel` on server a, bob and ben on server b; resolves
 * once every client's view holds all four, with the views' event logs cleared.
 */
async function fourMembers(cluster: TestCluster, channel: string, clients: RawClient[]) {
  const [a, b] = cluster.servers as [StartedServer, StartedServer];
  const members = await Promise.all([joinAs(a, channel, 'ann'), joinAs(a, channel, 'amy'), joinAs(b, channel, 'bob'), joinAs(b, channel, 'ben')]);
  clients.push(...members.map(({ client }) => client));
  await eventually(() => {
    for (const { view } of members) {
      view.catchUp();
      assert.deepEqual(view.sorted(), ['amy', 'ann', 'ben', 'bob']);
    }
  });
  for (const { view } of members) view.events.length = 0;
  return members;
}

function assertAlive(server: StartedServer): void {
  assert.equal(server.process.exitCode, null, `the server kept running:\n${server.output()}`);
  assert.doesNotMatch(server.output(), /FATAL/);
}

describe('Redis paused (SIGSTOP) while every HTTP API endpoint is called on both servers', () => {
  let cluster: TestCluster;
  const clients: RawClient[] = [];

  before(async () => {
    cluster = await startCluster(2);
  });
  after(async () => {
    cluster.redis.resume();
    for (const client of clients) client.close();
    await cluster.stop();
  });

  it('answers each request with 200 or 503 within a bound, answers subscribes, and heals after SIGCONT', async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    const ann = await joinAs(a, 'presence-stall', 'ann');
    const bob = await joinAs(b, 'presence-stall', 'bob');
    clients.push(ann.client, bob.client);
    await eventually(() => {
      ann.view.catchUp();
      assert.deepEqual(ann.view.sorted(), ['ann', 'bob']);
    });
    ann.view.events.length = 0;

    let cat: Awaited<ReturnType<typeof joinAs>>;
    cluster.redis.pause();
    try {
      // What each endpoint answers while the cluster state cannot be read (documented in docs/scaling.md).
      const calls: [string, number, (server: StartedServer) => Promise<ApiResult>][] = [
        ['GET /channels', 503, (server) => api(server, 'GET', 'channels')],
        ['GET /channels/{c}', 503, (server) => api(server, 'GET', 'channels/presence-stall', { params: { info: 'user_count,subscription_count' } })],
        ['GET /channels/{c}/users', 503, (server) => api(server, 'GET', 'channels/presence-stall/users')],
        ['GET /connections', 503, (server) => api(server, 'GET', 'connections')],
        ['POST /events with info', 200, (server) => post(server, 'events', { name: 'e', data: '{}', channels: ['presence-stall'], info: 'user_count' })],
        ['POST /batch_events with info', 200, (server) => post(server, 'batch_events', { batch: [{ name: 'e', data: '{}', channel: 'presence-stall', info: 'subscription_count' }] })],
        ['POST terminate_connections', 503, (server) => post(server, 'users/nobody/terminate_connections', {})],
      ];
      const answers = await Promise.all(
        [a, b].flatMap((server) =>
          calls.map(async ([what, status, call]) => {
            const started = Date.now();
            const result = await within(ANSWER_BOUND_MS, what, call(server));
            return { what, status, result, ms: Date.now() - started };
          }),
        ),
      );
      for (const { what, status, result } of answers) {
        assert.equal(result.status, status, `${what}: ${result.body}`);
        if (status === 503) {
          assert.match((result.json() as { error: string }).error, /cluster state is unavailable: Redis/, what);
          assert.equal(result.headers.get('retry-after'), '1', what);
        }
      }
      assert.deepEqual(answers.find((answer) => answer.what === 'POST /events with info')!.result.json(), { channels: { 'presence-stall': {} } });

      // Subscribes are answered too: a public channel, and a presence join announced to this server's clients at once.
      const late = await connect(a);
      clients.push(late);
      assert.equal((await within(ANSWER_BOUND_MS, 'subscribe', late.subscribe('public-stall'))).event, 'pusher_internal:subscription_succeeded');
      cat = await within(ANSWER_BOUND_MS, 'presence join', joinAs(b, 'presence-stall', 'cat'));
      clients.push(cat.client);
      assert.deepEqual(cat.view.sorted(), ['ann', 'bob', 'cat']);
    } finally {
      cluster.redis.resume();
    }

    // Healed: counts from both servers' clients, cat announced to A once, cross-server delivery.
    await eventually(async () => {
      for (const server of [a, b]) {
        const channel = await api(server, 'GET', 'channels/presence-stall', { params: { info: 'user_count,subscription_count' } });
        assert.deepEqual(channel.json(), { occupied: true, user_count: 3, subscription_count: 3 });
        assert.deepEqual((await api(server, 'GET', 'connections')).json(), { connections: 4 });
      }
      for (const { view } of [ann, bob, cat]) {
        view.catchUp();
        assert.deepEqual(view.sorted(), ['ann', 'bob', 'cat']);
      }
    }, 15_000);
    assert.deepEqual(ann.view.events, ['+cat']);
    assert.deepEqual(bob.view.events, ['+cat']);
    await eventually(async () => {
      assert.equal((await post(a, 'events', { name: 'after', data: '{}', channel: 'public-stall' })).status, 200);
      assert.equal((await post(b, 'events', { name: 'after', data: '{}', channel: 'presence-stall' })).status, 200);
      await ann.client.nextEvent('after', 300);
    }, 10_000);
    for (const server of [a, b]) {
      assertAlive(server);
      assert.match(server.output(), /Redis did not answer within 1000 ms/);
      assert.match(server.output(), /Redis answers again/);
    }
  });
});

describe('Redis paused for longer than node_timeout', () => {
  let cluster: TestCluster;
  const clients: RawClient[] = [];

  before(async () => {
    cluster = await startCluster(2, { nodeTimeout: 3 });
  });
  after(async () => {
    cluster.redis.resume();
    for (const client of clients) client.close();
    await cluster.stop();
  });

  it('removes nobody: afterwards each client got exactly the joins and leaves that happened', async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    const members = await fourMembers(cluster, 'presence-pause', clients);
    const [ann, amy, bob, ben] = members;

    cluster.redis.pause();
    const pausedAt = Date.now();
    try {
      await Promise.all([a, b].map((server) => server.waitForOutput(/Redis did not answer/, ANSWER_BOUND_MS + 3000)));
      // A leave on B and a join on A while Redis is paused.
      ben!.client.close();
      const cat = await within(ANSWER_BOUND_MS, 'presence join', joinAs(a, 'presence-pause', 'cat'));
      clients.push(cat.client);
      // Paused past node_timeout (3 s) plus a dead-node check interval: the stale heartbeats must not count.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 4500 - (Date.now() - pausedAt))));
    } finally {
      cluster.redis.resume();
    }
    await Promise.all([a, b].map((server) => server.waitForOutput(/Redis answers again/, 10_000)));

    const expected = ['amy', 'ann', 'bob', 'cat'];
    await eventually(async () => {
      for (const { view } of [ann!, amy!, bob!]) {
        view.catchUp();
        assert.deepEqual(view.sorted(), expected);
      }
      for (const server of [a, b]) assert.deepEqual(await userIds(server, 'presence-pause'), expected);
    }, 10_000);
    // A removal of the other server's members would come within a dead-node check (1 s) of Redis answering.
    await Promise.all([ann!, amy!, bob!].map(({ client }) => client.expectSilence(3000)));
    for (const { view } of [ann!, amy!, bob!]) {
      view.catchUp();
      assert.deepEqual([...view.events].sort(), ['+cat', '-ben']);
    }
    for (const server of [a, b]) {
      assertAlive(server);
      assert.doesNotMatch(server.output(), /stopped answering: removed/);
    }
  });
});

describe('Redis killed and restarted empty while members leave and join on both servers', () => {
  let cluster: TestCluster;
  const clients: RawClient[] = [];

  before(async () => {
    cluster = await startCluster(2, { nodeTimeout: 3 });
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster.stop();
  });

  it("ends with every client's member list equal to /users, each change announced exactly once", async () => {
    const [a, b] = cluster.servers as [StartedServer, StartedServer];
    const members = await fourMembers(cluster, 'presence-restart', clients);
    const [ann, amy, bob, ben] = members;

    await cluster.redis.stop();
    await Promise.all([a, b].map((server) => server.waitForOutput(/Redis connection lost/)));
    amy!.client.send({ event: 'pusher:unsubscribe', data: { channel: 'presence-restart' } });
    ben!.client.close();
    const dan = await within(ANSWER_BOUND_MS, 'presence join', joinAs(a, 'presence-restart', 'dan'));
    const cat = await within(ANSWER_BOUND_MS, 'presence join', joinAs(b, 'presence-restart', 'cat'));
    clients.push(dan.client, cat.client);
    await cluster.redis.start();

    // Redis came back empty: a server removes members only once every live server had time to
    // re-register (reconnect backoff 5 s + node_timeout 3 s), so this takes about 10 s.
    const expected = ['ann', 'bob', 'cat', 'dan'];
    const watching = [ann!, bob!, dan, cat];
    await eventually(async () => {
      for (const { view } of watching) {
        view.catchUp();
        assert.deepEqual(view.sorted(), expected);
      }
      for (const server of [a, b]) assert.deepEqual(await userIds(server, 'presence-restart'), expected);
    }, 20_000);
    for (const { view } of watching) {
      const users = view.events.map((event) => event.slice(1));
      assert.equal(new Set(users).size, users.length, `no user announced twice: ${view.events.join(' ')}`);
    }
    assert.deepEqual([...ann!.view.events].sort(), ['+cat', '+dan', '-amy', '-ben']);
    assert.deepEqual([...bob!.view.events].sort(), ['+cat', '+dan', '-amy', '-ben']);
    for (const server of [a, b]) assertAlive(server);
  });
});
