/**
 * Bad input of every kind: each gets the right error frame (the connection
 * stays usable) or the right close code, and never affects other clients or
 * the server process.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer, type TestApp } from '../helpers/server.js';
import { hmac } from '../helpers/sign.js';
import { RawClient } from '../helpers/ws-client.js';

const { secret } = DEFAULT_APP;
const LARGE_APP: TestApp = { ...DEFAULT_APP, app_id: 'large', key: 'large-key', secret: 'large-secret', max_message_size: 2_000_000 };
const INVALID = '{"event":"pusher:error","data":"{\\"code\\":4200,\\"message\\":\\"Invalid message format\\"}"}';
const UNAUTHORIZED = '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"Connection is unauthorized\\"}"}';
const NOT_MEMBER = '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"The client is not a member of the specified channel.\\"}"}';

type Send = (client: RawClient) => void;
const text = (frame: string): Send => (client) => client.ws.send(frame);
const json = (frame: unknown): Send => (client) => client.send(frame);
/** Writes raw bytes under ws, bypassing its framing (for protocol violations). */
const rawBytes = (bytes: number[]): Send => (client) => (client.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from(bytes));
const subscribe = (data: unknown) => json({ event: 'pusher:subscribe', data });

/** Bad frames answered with an error frame; the connection stays open. */
const ANSWERED: [string, Send, string][] = [
  ['plain text "Hi"', text('Hi'), INVALID],
  ['truncated JSON', text('{"event":"pusher:ping"'), INVALID],
  ['an empty frame', text(''), INVALID],
  ['whitespace only', text('   \n'), INVALID],
  ['a JSON array', text('[{"event":"pusher:ping"}]'), INVALID],
  ['a JSON number', text('12345'), INVALID],
  ['JSON null', text('null'), INVALID],
  ['a JSON string', text('"pusher:ping"'), INVALID],
  ['an object without event', json({ data: {} }), INVALID],
  ['event: []', json({ event: [] }), INVALID],
  ['event: 5', json({ event: 5 }), INVALID],
  ['event: ""', json({ event: '' }), INVALID],
  ['an unknown pusher:foo event', json({ event: 'pusher:foo', data: {} }), INVALID],
  ['a bare "pusher:" event', json({ event: 'pusher:' }), INVALID],
  ['a client-sent pusher:connection_established', json({ event: 'pusher:connection_established', data: {} }), INVALID],
  ['subscribe without data', json({ event: 'pusher:subscribe' }), INVALID],
  ['subscribe with data: "sfsfsfs"', subscribe('sfsfsfs'), INVALID],
  ['subscribe with data: []', subscribe([]), INVALID],
  ['subscribe with channel: []', subscribe({ channel: [] }), INVALID],
  ['subscribe with channel: null', subscribe({ channel: null }), INVALID],
  ['subscribe with channel: 42', subscribe({ channel: 42 }), INVALID],
  ['subscribe with auth: []', subscribe({ channel: 'private-x', auth: [] }), INVALID],
  ['subscribe with auth: {}', subscribe({ channel: 'private-x', auth: {} }), INVALID],
  ['subscribe with channel_data: []', subscribe({ channel: 'presence-x', auth: 'k:s', channel_data: [] }), INVALID],
  ['subscribe with channel_data: "Hello"', subscribe({ channel: 'presence-x', auth: 'k:s', channel_data: 'Hello' }), INVALID],
  ['subscribe with channel_data as an object', subscribe({ channel: 'presence-x', auth: 'k:s', channel_data: { user_id: '1' } }), INVALID],
  ['subscribe with a __proto__ channel', text('{"event":"pusher:subscribe","data":{"__proto__":{"channel":"polluted"}}}'), INVALID],
  ['unsubscribe without channel', json({ event: 'pusher:unsubscribe', data: {} }), INVALID],
  ['unsubscribe with data: "x"', json({ event: 'pusher:unsubscribe', data: 'x' }), INVALID],
  ['a client event with channel: []', json({ event: 'client-x', channel: [] }), INVALID],
  ['a client event without channel', json({ event: 'client-x', data: {} }), INVALID],
  ['a deeply nested array (4000 levels)', text('['.repeat(4000) + ']'.repeat(4000)), INVALID],
  ['a binary frame of garbage bytes', (client) => client.ws.send(Buffer.from([0xff, 0x00, 0x01, 0x80]), { binary: true }), INVALID],
  ['a signed subscribe with a forged key part', (client) => client.send({ event: 'pusher:subscribe', data: { channel: 'private-x', auth: `forged:${hmac(secret, `${client.socketId}:private-x`)}` } }), UNAUTHORIZED],
  ['a client event with a 5000-character name from a non-member', json({ event: `client-${'x'.repeat(5000)}`, channel: 'private-x', data: {} }), NOT_MEMBER],
];

describe('malformed input', () => {
  let server: StartedServer;
  let transport: string;
  let bystander: RawClient;
  const clients: RawClient[] = [];
  const connect = async (target: TestApp = DEFAULT_APP) => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${target.key}`);
    clients.push(client);
    return client;
  };
  const stillServed = async (client: RawClient) => {
    client.send({ event: 'pusher:ping' });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
  };
  /** Close codes for violations of the WebSocket protocol itself: RFC 6455 under ws; uWS drops the TCP connection (1006). */
  const protocolClose = (rfcCode: number) => (transport === 'uws' ? [rfcCode, 1006] : [rfcCode]);

  serverForSuite({ apps: [DEFAULT_APP, LARGE_APP] }, {
    started: async (started) => {
      server = started;
      transport = /Transport: (\w+)/.exec(server.output())?.[1] ?? 'ws';
      bystander = await connect();
      await bystander.subscribe('bystander-channel');
    },
    stopping: () => clients.forEach((client) => client.close()),
  });

  for (const [what, send, reply] of ANSWERED) {
    it(`answers ${what} with ${JSON.parse(JSON.parse(reply).data).code} and keeps the connection`, async () => {
      const client = await connect();
      send(client);
      assert.equal(await client.nextRaw(), reply);
      await stillServed(client);
    });
  }

  it('answers every bad frame in order when they arrive back to back on one connection', async () => {
    const client = await connect();
    for (const [, send] of ANSWERED) send(client);
    for (const [what, , reply] of ANSWERED) assert.equal(await client.nextRaw(), reply, what);
    await stillServed(client);
  });

  it('treats a binary frame holding a valid frame like text (as Reverb does)', async () => {
    const client = await connect();
    client.ws.send(Buffer.from('{"event":"pusher:ping"}'), { binary: true });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
  });

  it('reassembles a fragmented message', async () => {
    const client = await connect();
    client.ws.send('{"event":"pus', { fin: false });
    client.ws.send('her:ping"}', { fin: true });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
  });

  it('answers a client event whose data is too deeply nested to relay with 4200, and relays nothing', async () => {
    const [sender, receiver] = [await connect(LARGE_APP), await connect(LARGE_APP)];
    for (const client of [sender, receiver]) await client.subscribe('private-deep', { key: LARGE_APP.key, secret: LARGE_APP.secret });
    sender.send(`{"event":"client-deep","channel":"private-deep","data":${'['.repeat(400_000)}${']'.repeat(400_000)}}`);
    assert.equal(await sender.nextRaw(), INVALID);
    await receiver.expectSilence(200);
    await stillServed(sender);
  });

  it('closes a text frame with invalid UTF-8 with 1007', async () => {
    const client = await connect();
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    const { code } = await client.waitForClose();
    assert.ok(protocolClose(1007).includes(code), `closed with ${code}`);
  });

  it('closes an oversized frame with 1009', async () => {
    const client = await connect();
    client.send({ event: 'pusher:ping', data: { pad: 'x'.repeat(50_000) } });
    assert.equal((await client.waitForClose()).code, 1009);
  });

  const violations: [string, number[], number][] = [
    ['an unmasked client frame', [0x81, 0x02, 0x68, 0x69], 1002],
    ['a reserved opcode', [0x83, 0x80, 0, 0, 0, 0], 1002],
    ['RSV1 without a negotiated extension', [0xc1, 0x80, 0, 0, 0, 0], 1002],
    ['a continuation frame without a start', [0x80, 0x80, 0, 0, 0, 0], 1002],
  ];
  for (const [what, bytes, code] of violations) {
    it(`closes the connection on ${what} (${code})`, async (t) => {
      if (transport === 'uws' && bytes[1]! < 0x80) {
        // uWS does not check the mask bit: it reads the next 4 bytes as a mask key and waits for them.
        t.skip('uWebSockets.js accepts unmasked frames');
        return;
      }
      const client = await connect();
      rawBytes(bytes)(client);
      const closed = await client.waitForClose(5000);
      assert.ok(protocolClose(code).includes(closed.code), `closed with ${closed.code}`);
    });
  }

  it('keeps serving a well-behaved client, and the server process is alive', async () => {
    await stillServed(bystander);
    await apiClient(server).trigger('bystander-channel', 'still-there', { ok: true });
    assert.equal(await bystander.nextRaw(), '{"event":"still-there","data":"{\\"ok\\":true}","channel":"bystander-channel"}');
    assert.equal(server.process.exitCode, null);
    const fresh = await connect();
    await stillServed(fresh);
  });
});
