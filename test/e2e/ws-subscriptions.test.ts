/**
 * pusher:subscribe / pusher:unsubscribe on every channel type: exact replies,
 * authorization failures (checked through the HTTP API: not subscribed),
 * cache channels, duplicate subscribes, channel-name rules and server events.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, channelInfo, eventually, occupiedChannels } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { hmac } from '../helpers/sign.js';
import { RawClient } from '../helpers/ws-client.js';

const { key, secret } = DEFAULT_APP;
const TTL_APP: TestApp = { ...DEFAULT_APP, app_id: 'ttl', key: 'ttl-key', secret: 'ttl-secret', cache_ttl: 0.5 };

const succeeded = (channel: string, data = '{}') => JSON.stringify({ event: 'pusher_internal:subscription_succeeded', data, channel });
const cacheMiss = (channel: string) => `{"event":"pusher:cache_miss","channel":"${channel}"}`;
const UNAUTHORIZED = '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"Connection is unauthorized\\"}"}';

// Every test uses its own connections and channel names, so they run side by side.
describe('subscriptions', { concurrency: true }, () => {
  let server: StartedServer;
  let api: ReturnType<typeof apiClient>;
  const clients: RawClient[] = [];
  const connect = async (appKey = key) => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${appKey}`);
    clients.push(client);
    return client;
  };
  const subscriptionCount = async (channel: string) => {
    const info = await channelInfo(api, channel, 'subscription_count');
    return info.occupied ? (info.subscription_count as number) : 0;
  };
  const sendSubscribe = (client: RawClient, data: unknown) => client.send({ event: 'pusher:subscribe', data });

  serverForSuite({ apps: [DEFAULT_APP, TTL_APP] }, {
    started: (started) => { server = started; api = apiClient(started); },
    stopping: () => clients.forEach((client) => client.close()),
  });

  describe('successful subscriptions', () => {
    it('public channel: exact subscription_succeeded, channel occupied', async () => {
      const client = await connect();
      client.send({ event: 'pusher:subscribe', data: { auth: '', channel: 'public-one' } });
      assert.equal(await client.nextRaw(), succeeded('public-one'));
      assert.deepEqual(await channelInfo(api, 'public-one', 'subscription_count'), { occupied: true, subscription_count: 1 });
    });

    it('public channel ignores any auth value', async () => {
      const client = await connect();
      sendSubscribe(client, { auth: 'nonsense', channel: 'public-two' });
      assert.equal(await client.nextRaw(), succeeded('public-two'));
    });

    it('accepts data sent as a JSON string (pusher-websocket-java style)', async () => {
      const client = await connect();
      client.send({ event: 'pusher:subscribe', data: JSON.stringify({ channel: 'public-string-data' }) });
      assert.equal(await client.nextRaw(), succeeded('public-string-data'));
    });

    for (const channel of ['private-one', 'private-encrypted-one']) {
      it(`${channel.replace(/one$/, '')} channel with a valid signature: exact subscription_succeeded`, async () => {
        const client = await connect();
        const auth = `${key}:${hmac(secret, `${client.socketId}:${channel}`)}`;
        sendSubscribe(client, { auth, channel });
        assert.equal(await client.nextRaw(), succeeded(channel));
        assert.equal((await channelInfo(api, channel)).occupied, true);
      });
    }

    it('presence channel: exact subscription_succeeded with count, ids and hash', async () => {
      const client = await connect();
      const channelData = '{"user_id":"1","user_info":{"name":"Test User"}}';
      const reply = await client.subscribe('presence-one', { key, secret, channelData });
      assert.deepEqual(reply, {
        event: 'pusher_internal:subscription_succeeded',
        data: '{"presence":{"count":1,"ids":["1"],"hash":{"1":{"name":"Test User"}}}}',
        channel: 'presence-one',
      });
    });

    for (const channel of ['cache-one', 'private-cache-one', 'presence-cache-one']) {
      it(`${channel.replace(/one$/, '')} channel: subscription_succeeded then pusher:cache_miss on an empty cache`, async () => {
        const client = await connect();
        const channelData = channel.startsWith('presence-') ? { user_id: '1' } : undefined;
        const first = await client.subscribe(channel, { key, secret, channelData });
        assert.equal(first.event, 'pusher_internal:subscription_succeeded');
        assert.equal(first.channel, channel);
        assert.equal(await client.nextRaw(), cacheMiss(channel));
      });
    }

    it('one connection can hold many channels', async () => {
      const client = await connect();
      const names = ['multi-a', 'multi-b', 'private-multi-c'];
      for (const name of names) assert.equal((await client.subscribe(name, { key, secret })).event, 'pusher_internal:subscription_succeeded');
      const occupied = await occupiedChannels(api);
      for (const name of names) assert.ok(occupied.includes(name), `${name} listed in ${occupied.join(',')}`);
    });
  });

  describe('authorization failures', () => {
    const channels = ['private-auth', 'private-encrypted-auth', 'presence-auth', 'private-cache-auth', 'presence-cache-auth'];
    const channelData = '{"user_id":"5","user_info":{"name":"Eve"}}';
    const data = (channel: string, auth: unknown) =>
      channel.startsWith('presence-') ? { auth, channel, channel_data: channelData } : { auth, channel };
    const toSign = (socketId: string, channel: string) =>
      channel.startsWith('presence-') ? `${socketId}:${channel}:${channelData}` : `${socketId}:${channel}`;

    const cases: [string, (socketId: string, channel: string) => unknown][] = [
      ['no auth', () => undefined],
      ['null auth', () => null],
      ['empty auth', () => ''],
      ['an invalid signature', () => `${key}:${'0'.repeat(64)}`],
      ['a valid signature with the wrong key part', (socketId, channel) => `wrong-key:${hmac(secret, toSign(socketId, channel))}`],
      ['a signature without the key part', (socketId, channel) => hmac(secret, toSign(socketId, channel))],
      ['a signature made with another secret', (socketId, channel) => `${key}:${hmac('other-secret', toSign(socketId, channel))}`],
      ['a signature for another socket id', (_socketId, channel) => `${key}:${hmac(secret, toSign('1.1', channel))}`],
      ['a signature for another channel', (socketId) => `${key}:${hmac(secret, `${socketId}:private-other`)}`],
    ];
    for (const [what, auth] of cases) {
      it(`rejects ${what} with the exact 4009 frame on every authorized channel type, not subscribed`, async () => {
        const client = await connect();
        for (const channel of channels) {
          sendSubscribe(client, data(channel, auth(client.socketId, channel)));
          assert.equal(await client.nextRaw(), UNAUTHORIZED, channel);
        }
        for (const channel of channels) assert.deepEqual(await channelInfo(api, channel), { occupied: false }, channel);
      });
    }

    it('rejects presence channel_data that differs from what was signed', async () => {
      const client = await connect();
      const auth = `${key}:${hmac(secret, `${client.socketId}:presence-auth:${channelData}`)}`;
      sendSubscribe(client, { auth, channel: 'presence-auth', channel_data: '{"user_id":"1","user_info":{"name":"Admin"}}' });
      assert.equal(await client.nextRaw(), UNAUTHORIZED);
      assert.deepEqual(await channelInfo(api, 'presence-auth'), { occupied: false });
    });

    it('keeps the connection usable after a failed subscription', async () => {
      const client = await connect();
      sendSubscribe(client, { auth: 'bad', channel: 'private-retry' });
      assert.equal(await client.nextRaw(), UNAUTHORIZED);
      assert.equal((await client.subscribe('private-retry', { key, secret })).event, 'pusher_internal:subscription_succeeded');
      assert.equal((await channelInfo(api, 'private-retry')).occupied, true);
    });

    it('does not deliver events of a channel whose subscription failed', async () => {
      const client = await connect();
      sendSubscribe(client, { auth: `${key}:bad`, channel: 'private-nodeliver' });
      assert.equal(await client.nextRaw(), UNAUTHORIZED);
      await api.trigger('private-nodeliver', 'secret-event', { a: 1 });
      await client.expectSilence(200);
    });
  });

  describe('unsubscribe', () => {
    it('leaves the channel without a reply; the channel disappears when empty', async () => {
      const client = await connect();
      await client.subscribe('leave-me');
      client.send({ event: 'pusher:unsubscribe', data: { channel: 'leave-me' } });
      await eventually(async () => assert.deepEqual(await channelInfo(api, 'leave-me'), { occupied: false }));
      assert.ok(!(await occupiedChannels(api)).includes('leave-me'));
      await api.trigger('leave-me', 'after-leave', {});
      await client.expectSilence(200);
    });

    it('works the same on every channel type', async () => {
      const client = await connect();
      const names = ['unsub-public', 'private-unsub', 'private-encrypted-unsub', 'presence-unsub', 'cache-unsub', 'private-cache-unsub', 'presence-cache-unsub'];
      for (const name of names) {
        const reply = await client.subscribe(name, { key, secret, channelData: name.startsWith('presence-') ? { user_id: 'u' } : undefined });
        assert.equal(reply.event, 'pusher_internal:subscription_succeeded', name);
        if (name.includes('cache-')) assert.equal(await client.nextRaw(), cacheMiss(name));
      }
      for (const name of names) assert.equal((await channelInfo(api, name)).occupied, true, name);
      for (const name of names) client.send({ event: 'pusher:unsubscribe', data: { channel: name } });
      await eventually(async () => {
        for (const name of names) assert.deepEqual(await channelInfo(api, name), { occupied: false }, name);
      });
      for (const name of names) await api.trigger(name, 'after-unsubscribe', {});
      await client.expectSilence(200);
    });

    it('unsubscribing one connection keeps the channel for the others', async () => {
      const [a, b] = [await connect(), await connect()];
      await a.subscribe('shared-leave');
      await b.subscribe('shared-leave');
      a.send({ event: 'pusher:unsubscribe', data: { channel: 'shared-leave' } });
      await eventually(async () => assert.equal(await subscriptionCount('shared-leave'), 1));
      await api.trigger('shared-leave', 'still-here', { ok: true });
      assert.equal(await b.nextRaw(), '{"event":"still-here","data":"{\\"ok\\":true}","channel":"shared-leave"}');
      await a.expectSilence(200);
    });

    it('unsubscribing from a channel the connection is not in sends nothing', async () => {
      const client = await connect();
      client.send({ event: 'pusher:unsubscribe', data: { channel: 'never-joined' } });
      client.send({ event: 'pusher:unsubscribe', data: { channel: 'private-never-joined' } });
      await client.expectSilence(200);
    });

    it('can subscribe again after unsubscribing', async () => {
      const client = await connect();
      await client.subscribe('again');
      client.send({ event: 'pusher:unsubscribe', data: { channel: 'again' } });
      assert.equal(JSON.stringify(await client.subscribe('again')), succeeded('again'));
      assert.equal(await subscriptionCount('again'), 1);
    });
  });

  describe('duplicate subscribe', () => {
    it('public: answers subscription_succeeded again and counts the connection once', async () => {
      const client = await connect();
      assert.equal(JSON.stringify(await client.subscribe('dup-public')), succeeded('dup-public'));
      assert.equal(JSON.stringify(await client.subscribe('dup-public')), succeeded('dup-public'));
      assert.equal(await subscriptionCount('dup-public'), 1);
      // Still one delivery per event.
      await api.trigger('dup-public', 'once', {});
      await client.nextEvent('once');
      await client.expectSilence(200);
    });

    it('cache channel: replays the cache (or miss) again', async () => {
      const client = await connect();
      await client.subscribe('cache-dup');
      assert.equal(await client.nextRaw(), cacheMiss('cache-dup'));
      await client.subscribe('cache-dup');
      assert.equal(await client.nextRaw(), cacheMiss('cache-dup'));
      assert.equal(await subscriptionCount('cache-dup'), 1);
    });
  });

  describe('cache channels', () => {
    it('replays the last event to a new subscriber, exactly as it was broadcast', async () => {
      const live = await connect();
      await live.subscribe('cache-replay');
      assert.equal(await live.nextRaw(), cacheMiss('cache-replay'));
      await api.trigger('cache-replay', 'first', { n: 1 });
      await api.trigger('cache-replay', 'App\\Events\\Second', { n: 2, url: 'a/b' });
      await live.nextEvent('first');
      const broadcast = await live.nextRaw();

      const late = await connect();
      assert.equal(JSON.stringify(await late.subscribe('cache-replay')), succeeded('cache-replay'));
      const replayed = await late.nextRaw();
      assert.equal(replayed, broadcast);
      assert.equal(replayed, '{"event":"App\\\\Events\\\\Second","data":"{\\"n\\":2,\\"url\\":\\"a/b\\"}","channel":"cache-replay"}');
    });

    it('caches an event published while nobody was subscribed', async () => {
      assert.deepEqual(await channelInfo(api, 'cache-empty-room'), { occupied: false });
      await api.trigger('cache-empty-room', 'while-away', { hello: 'world' });
      const client = await connect();
      await client.subscribe('cache-empty-room');
      assert.equal(await client.nextRaw(), '{"event":"while-away","data":"{\\"hello\\":\\"world\\"}","channel":"cache-empty-room"}');
    });

    it('replays on private-cache- and presence-cache- channels too', async () => {
      for (const channel of ['private-cache-replay', 'presence-cache-replay']) {
        await api.trigger(channel, 'cached', { channel });
        const client = await connect();
        await client.subscribe(channel, { key, secret, channelData: channel.startsWith('presence-') ? { user_id: 3 } : undefined });
        assert.deepEqual(await client.next(), { event: 'cached', data: JSON.stringify({ channel }), channel });
      }
    });

    it('does not cache events of non-cache channels', async () => {
      await api.trigger('not-a-cache', 'ev', {});
      const client = await connect();
      await client.subscribe('not-a-cache');
      await client.expectSilence(200);
    });

    it('forgets the cached event after cache_ttl (fractional seconds)', async () => {
      const ttlApi = apiClient(server, TTL_APP);
      const published = Date.now();
      await ttlApi.trigger('cache-ttl', 'short-lived', {});
      const probe = async () => {
        const client = await connect(TTL_APP.key);
        await client.subscribe('cache-ttl');
        const frame = await client.next();
        client.close();
        return frame.event;
      };
      assert.equal(await probe(), 'short-lived', 'cached right after publishing');
      await eventually(async () => assert.equal(await probe(), 'pusher:cache_miss'), 3000);
      const elapsed = Date.now() - published;
      assert.ok(elapsed >= 450, `cache expired after ${elapsed} ms, before cache_ttl`);
    });
  });

  describe('channel names', () => {
    const invalid: [string, string][] = [
      ['a space', 'foo bar'],
      ['a dollar sign', 'foo$'],
      ['a slash', 'foo/bar'],
      ['a non-ASCII letter', 'caf\u00e9'],
      ['a colon', 'private:foo'],
      ['165 characters', 'a'.repeat(165)],
      ['an empty name', ''],
      ['a reserved # prefix', '#not-allowed'],
    ];
    for (const [what, name] of invalid) {
      it(`rejects a channel name with ${what}: pusher:error, not subscribed`, async () => {
        const client = await connect();
        sendSubscribe(client, { auth: '', channel: name });
        const reply = await client.next();
        assert.equal(reply.event, 'pusher:error');
        assert.equal(reply.channel, undefined);
        assert.equal(JSON.parse(reply.data as string).code, 4200);
        assert.ok(!(await occupiedChannels(api)).includes(name), 'not subscribed');
        // The connection still works.
        client.send({ event: 'pusher:ping' });
        assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
      });
    }

    it('accepts 164 characters and every allowed punctuation mark', async () => {
      const client = await connect();
      const long = 'b'.repeat(164);
      assert.equal(JSON.stringify(await client.subscribe(long)), succeeded(long));
      const punctuated = 'Az09_-=@,.;';
      assert.equal(JSON.stringify(await client.subscribe(punctuated)), succeeded(punctuated));
      assert.equal(await subscriptionCount(punctuated), 1);
    });
  });

  describe('server events', () => {
    it('delivers an HTTP API event byte-exact to every subscriber (event, data, channel)', async () => {
      const subscribers = [await connect(), await connect(), await connect()];
      for (const client of subscribers) await client.subscribe('broadcast-channel');
      await api.trigger('broadcast-channel', 'App\\Events\\TestEvent', { foo: 'bar', 'é': '\u00e9/' });
      const expected = JSON.stringify({ event: 'App\\Events\\TestEvent', data: JSON.stringify({ foo: 'bar', 'é': '\u00e9/' }), channel: 'broadcast-channel' });
      for (const client of subscribers) assert.equal(await client.nextRaw(), expected);
    });

    it('excludes the socket_id given on the trigger', async () => {
      const [sender, other] = [await connect(), await connect()];
      await sender.subscribe('private-App.Models.User.1', { key, secret });
      await other.subscribe('private-App.Models.User.1', { key, secret });
      await api.trigger('private-App.Models.User.1', 'to-others', 'plain string', { socket_id: sender.socketId });
      assert.deepEqual(await other.next(), { event: 'to-others', data: 'plain string', channel: 'private-App.Models.User.1' });
      await sender.expectSilence(200);
    });

    it('relays encrypted-channel payloads verbatim', async () => {
      const client = await connect();
      await client.subscribe('private-encrypted-vault', { key, secret });
      await api.trigger('private-encrypted-vault', 'sealed', { secret: 'message' });
      const frame = await client.next();
      assert.equal(frame.event, 'sealed');
      const data = JSON.parse(frame.data as string) as Record<string, string>;
      assert.deepEqual(Object.keys(data).sort(), ['ciphertext', 'nonce']);
      assert.ok(!(frame.data as string).includes('message'), 'the server never sees plaintext');
    });
  });
});
