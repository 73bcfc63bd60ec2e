/**
 * Client events (`client-*`): where they are allowed, who may send them
 * (accept_client_events_from), what the others receive, and rate limiting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const app = (id: string, options: Record<string, unknown>): TestApp => ({ ...DEFAULT_APP, app_id: id, key: `${id}-key`, secret: `${id}-secret`, ...options });

const MEMBERS_APP = DEFAULT_APP;
const ALL_APP = app('all', { accept_client_events_from: 'all' });
const NONE_APP = app('none', { accept_client_events_from: 'none' });
const LIMITED_APP = app('limited', { rate_limiting: { enabled: true, max_attempts: 3, decay_seconds: 1, terminate_on_limit: false } });
const COUNTING_APP = app('counting', { rate_limiting: { enabled: true, max_attempts: 4, decay_seconds: 60 } });
const TERMINATING_APP = app('terminating', { rate_limiting: { enabled: true, max_attempts: 2, decay_seconds: 60, terminate_on_limit: true } });

const errorFrame = (code: number, message: string) => JSON.stringify({ event: 'pusher:error', data: JSON.stringify({ code, message }) });
const NOT_MEMBER = errorFrame(4009, 'The client is not a member of the specified channel.');
const DISABLED = errorFrame(4301, 'The app does not have client messaging enabled.');
const RATE_LIMITED = errorFrame(4301, 'Rate limit exceeded');
const PONG = '{"event":"pusher:pong"}';

// Every test uses its own connections and channel names, so they run side by side.
describe('client events', { concurrency: true }, () => {
  let server: StartedServer;
  const clients: RawClient[] = [];
  const connect = async (target: TestApp = MEMBERS_APP) => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${target.key}`);
    clients.push(client);
    return client;
  };
  /** `count` connections subscribed to `channel` (presence members get user ids "1", "2", …). */
  const group = async (channel: string, count: number, target: TestApp = MEMBERS_APP, userIds?: unknown[]) => {
    const members: RawClient[] = [];
    for (let i = 0; i < count; i++) {
      const client = await connect(target);
      const channelData = channel.startsWith('presence-') ? { user_id: userIds?.[i] ?? String(i + 1) } : undefined;
      const reply = await client.subscribe(channel, { key: target.key, secret: target.secret, channelData });
      assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
      if (channelData) for (const earlier of members) await earlier.nextEvent('pusher_internal:member_added');
      members.push(client);
    }
    return members;
  };
  const NO_DATA = Symbol('no data');
  const whisper = (client: RawClient, channel: unknown, event = 'client-typing', data: unknown = { name: 'Ada' }) =>
    client.send(data === NO_DATA ? { event, channel } : { event, data, channel });

  serverForSuite({ apps: [MEMBERS_APP, ALL_APP, NONE_APP, LIMITED_APP, COUNTING_APP, TERMINATING_APP] }, {
    started: (started) => (server = started),
    stopping: () => clients.forEach((client) => client.close()),
  });

  it('relays a client event on a private channel to the other members, exactly, and never back to the sender', async () => {
    const [sender, a, b] = await group('private-chat', 3);
    whisper(sender, 'private-chat');
    const expected = '{"event":"client-typing","channel":"private-chat","data":{"name":"Ada"}}';
    assert.equal(await a.nextRaw(), expected);
    assert.equal(await b.nextRaw(), expected);
    await sender.expectSilence(200);
  });

  it('adds the sender user_id on presence channels, as it was sent (string or integer)', async () => {
    const [stringUser, intUser] = await group('presence-chat', 2, MEMBERS_APP, ['u-1', 42]);
    whisper(stringUser, 'presence-chat');
    assert.equal(await intUser.nextRaw(), '{"event":"client-typing","channel":"presence-chat","data":{"name":"Ada"},"user_id":"u-1"}');
    whisper(intUser, 'presence-chat', 'client-moved', { x: 1 });
    assert.equal(await stringUser.nextRaw(), '{"event":"client-moved","channel":"presence-chat","data":{"x":1},"user_id":42}');
    await stringUser.expectSilence(100);
    await intUser.expectSilence(0);
  });

  for (const [what, channel] of [
    ['public', 'public-chat'],
    ['private-encrypted-', 'private-encrypted-chat'],
  ]) {
    for (const target of [MEMBERS_APP, ALL_APP]) {
      it(`rejects client events on ${what} channels (accept_client_events_from ${target.accept_client_events_from}) with an error frame`, async () => {
        const [sender, other] = await group(channel!, 2, target);
        whisper(sender, channel);
        const reply = await sender.next();
        assert.equal(reply.event, 'pusher:error');
        assert.equal(typeof reply.data, 'string');
        assert.equal(typeof JSON.parse(reply.data as string).code, 'number');
        await other.expectSilence(200);
        // The sender is still subscribed and served.
        sender.send({ event: 'pusher:ping' });
        assert.equal(await sender.nextRaw(), PONG);
      });
    }
  }

  it('members mode: a non-member gets the exact 4009 frame and nothing is relayed', async () => {
    const [member] = await group('private-members-only', 1);
    const outsider = await connect();
    whisper(outsider, 'private-members-only');
    assert.equal(await outsider.nextRaw(), NOT_MEMBER);
    whisper(outsider, 'private-nobody-here');
    assert.equal(await outsider.nextRaw(), NOT_MEMBER);
    await member!.expectSilence(200);
  });

  it('members mode: after unsubscribing, the connection is no longer a member', async () => {
    const [leaver, stayer] = await group('private-left', 2);
    leaver.send({ event: 'pusher:unsubscribe', data: { channel: 'private-left' } });
    whisper(leaver, 'private-left');
    assert.equal(await leaver.nextRaw(), NOT_MEMBER);
    await stayer.expectSilence(200);
  });

  it('all mode: a non-member may send on private channels', async () => {
    const [member] = await group('private-open', 1, ALL_APP);
    const outsider = await connect(ALL_APP);
    whisper(outsider, 'private-open');
    assert.equal(await member!.nextRaw(), '{"event":"client-typing","channel":"private-open","data":{"name":"Ada"}}');
    await outsider.expectSilence(200);
  });

  it('none mode: the exact 4301 "client messaging" frame, nothing relayed, connection open', async () => {
    const [sender, other] = await group('private-silent', 2, NONE_APP);
    whisper(sender, 'private-silent');
    assert.equal(await sender.nextRaw(), DISABLED);
    await other.expectSilence(200);
    sender.send({ event: 'pusher:ping' });
    assert.equal(await sender.nextRaw(), PONG);
  });

  it('relays data that is missing, a string, a JSON string, an object, a number, empty or null', async () => {
    const [sender, receiver] = await group('private-shapes', 2);
    const received = async () => JSON.parse(await receiver.nextRaw()) as Record<string, unknown>;

    whisper(sender, 'private-shapes', 'client-exit', NO_DATA);
    const missing = await received();
    assert.equal(missing.event, 'client-exit');
    assert.equal(missing.channel, 'private-shapes');
    assert.ok(missing.data === undefined || missing.data === null, JSON.stringify(missing));

    const shapes: [unknown, unknown][] = [
      ['hello', 'hello'],
      ['{"a":1}', { a: 1 }],
      [{ nested: { deep: [1, 2, { x: null }] } }, { nested: { deep: [1, 2, { x: null }] } }],
      [{ empty: {} }, { empty: {} }],
      [7, 7],
      ['', ''],
      [null, null],
    ];
    for (const [sent, relayed] of shapes) {
      whisper(sender, 'private-shapes', 'client-shape', sent);
      const frame = await received();
      assert.deepEqual(frame, { event: 'client-shape', channel: 'private-shapes', data: relayed }, JSON.stringify(sent));
    }
    await sender.expectSilence(100);
  });

  it('silently ignores events that are neither pusher: nor client- events', async () => {
    const [sender, other] = await group('private-ignored', 2);
    whisper(sender, 'private-ignored', 'typing');
    whisper(sender, 'private-ignored', 'pusher_internal:member_added');
    await sender.expectSilence(200);
    await other.expectSilence(0);
  });

  describe('rate limiting', () => {
    it('answers frames over max_attempts with the 4301 "Rate limit exceeded" frame and keeps the connection', async () => {
      const client = await connect(LIMITED_APP);
      for (let i = 0; i < 3; i++) client.send({ event: 'pusher:ping' });
      for (let i = 0; i < 3; i++) assert.equal(await client.nextRaw(), PONG);
      client.send({ event: 'pusher:ping' });
      assert.equal(await client.nextRaw(), RATE_LIMITED);
      assert.equal(client.closeCode, undefined);

      // The window ends after decay_seconds: frames pass again.
      const deadline = Date.now() + 4000;
      let reply = RATE_LIMITED;
      while (reply === RATE_LIMITED && Date.now() < deadline) {
        client.send({ event: 'pusher:ping' });
        reply = await client.nextRaw();
        if (reply === RATE_LIMITED) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(reply, PONG);
    });

    it('counts client events too: rejected ones get the 4301 frame and are not relayed', async () => {
      // max_attempts 4 per 60 s: the subscribe is the first attempt, three whispers pass.
      const [sender, receiver] = await group('private-limited', 2, COUNTING_APP);
      for (let i = 0; i < 6; i++) whisper(sender, 'private-limited', 'client-n', { i });
      for (let i = 0; i < 3; i++) assert.equal(await sender.nextRaw(), RATE_LIMITED);
      for (let i = 0; i < 3; i++) assert.equal(await receiver.nextRaw(), `{"event":"client-n","channel":"private-limited","data":{"i":${i}}}`);
      await receiver.expectSilence(200);
      await sender.expectSilence(0);
    });

    it('with terminate_on_limit, closes the connection with 4301', async () => {
      const client = await connect(TERMINATING_APP);
      client.send({ event: 'pusher:ping' });
      client.send({ event: 'pusher:ping' });
      assert.equal(await client.nextRaw(), PONG);
      assert.equal(await client.nextRaw(), PONG);
      client.send({ event: 'pusher:ping' });
      const { code } = await client.waitForClose();
      assert.equal(code, 4301);
      assert.ok(client.frames.every((frame) => frame === RATE_LIMITED), client.frames.join(' '));
    });

    it('does not limit apps without rate_limiting', async () => {
      const client = await connect();
      for (let i = 0; i < 100; i++) client.send({ event: 'pusher:ping' });
      for (let i = 0; i < 100; i++) assert.equal(await client.nextRaw(), PONG);
    });
  });
});
