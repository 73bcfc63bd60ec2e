/**
 * User authentication (`pusher:signin`) and the `#server-to-user-<id>`
 * channel it unlocks; terminate_connections for signed-in users.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, channelInfo } from '../helpers/clients.js';
import { DEFAULT_APP, serverForSuite, type StartedServer } from '../helpers/server.js';
import { hmac } from '../helpers/sign.js';
import { RawClient } from '../helpers/ws-client.js';

const { key, secret } = DEFAULT_APP;
const UNAUTHORIZED = '{"event":"pusher:error","data":"{\\"code\\":4009,\\"message\\":\\"Connection is unauthorized\\"}"}';

describe('pusher:signin and server-to-user channels', () => {
  let server: StartedServer;
  let api: ReturnType<typeof apiClient>;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect(`${server.wsUrl}/app/${key}`);
    clients.push(client);
    return client;
  };
  const signin = (client: RawClient, userData: string, auth = `${key}:${hmac(secret, `${client.socketId}::user::${userData}`)}`) =>
    client.send({ event: 'pusher:signin', data: { auth, user_data: userData } });

  serverForSuite({}, {
    started: (started) => { server = started; api = apiClient(started); },
    stopping: () => clients.forEach((client) => client.close()),
  });

  it('answers a valid signin with pusher:signin_success carrying the same user_data', async () => {
    const client = await connect();
    const userData = '{"id":"42","user_info":{"name":"Ada"},"watchlist":["7"]}';
    signin(client, userData);
    const reply = await client.nextRaw();
    assert.equal(reply, JSON.stringify({ event: 'pusher:signin_success', data: JSON.stringify({ user_data: userData }) }));
  });

  it('after signin, #server-to-user-<id> can be subscribed and receives sendToUser events', async () => {
    const client = await connect();
    signin(client, '{"id":"42"}');
    await client.nextEvent('pusher:signin_success');
    assert.deepEqual(await client.subscribe('#server-to-user-42'), {
      event: 'pusher_internal:subscription_succeeded',
      data: '{}',
      channel: '#server-to-user-42',
    });
    await api.sendToUser('42', 'private-note', { text: 'hi' });
    assert.equal(await client.nextRaw(), '{"event":"private-note","data":"{\\"text\\":\\"hi\\"}","channel":"#server-to-user-42"}');
  });

  it('accepts an integer id (pusher-http-php) and compares it as a string', async () => {
    const client = await connect();
    signin(client, '{"id":12345}');
    await client.nextEvent('pusher:signin_success');
    assert.equal((await client.subscribe('#server-to-user-12345')).event, 'pusher_internal:subscription_succeeded');
  });

  it('refuses #server-to-user-<id> for another user id, not subscribed', async () => {
    const client = await connect();
    signin(client, '{"id":"42"}');
    await client.nextEvent('pusher:signin_success');
    client.send({ event: 'pusher:subscribe', data: { auth: '', channel: '#server-to-user-43' } });
    assert.equal(await client.nextRaw(), UNAUTHORIZED);
    assert.deepEqual(await channelInfo(api, '#server-to-user-43'), { occupied: false });
    await api.sendToUser('43', 'not-yours', {});
    await client.expectSilence(200);
  });

  it('refuses #server-to-user-<id> without signin, whatever auth is sent', async () => {
    const client = await connect();
    client.send({ event: 'pusher:subscribe', data: { auth: '', channel: '#server-to-user-42' } });
    assert.equal(await client.nextRaw(), UNAUTHORIZED);
    const auth = `${key}:${hmac(secret, `${client.socketId}:#server-to-user-42`)}`;
    client.send({ event: 'pusher:subscribe', data: { auth, channel: '#server-to-user-42' } });
    assert.equal(await client.nextRaw(), UNAUTHORIZED);
  });

  const refusals: [string, (client: RawClient) => void][] = [
    ['an invalid signature', (client) => signin(client, '{"id":"1"}', `${key}:${'0'.repeat(64)}`)],
    ['the wrong key part', (client) => signin(client, '{"id":"1"}', `other-key:${hmac(secret, `${client.socketId}::user::{"id":"1"}`)}`)],
    ['a signature over other user_data', (client) => signin(client, '{"id":"2"}', `${key}:${hmac(secret, `${client.socketId}::user::{"id":"1"}`)}`)],
    ['a channel-style signature', (client) => signin(client, '{"id":"1"}', `${key}:${hmac(secret, `${client.socketId}:{"id":"1"}`)}`)],
  ];
  for (const [what, send] of refusals) {
    it(`refuses a signin with ${what}: 4009 frame and close 4009`, async () => {
      const client = await connect();
      send(client);
      assert.equal(await client.nextRaw(), UNAUTHORIZED);
      assert.equal((await client.waitForClose()).code, 4009);
    });
  }

  it('refuses signed user_data without an id', async () => {
    const client = await connect();
    signin(client, '{"user_info":{"name":"anonymous"}}');
    const reply = await client.next();
    assert.equal(reply.event, 'pusher:error');
    assert.equal(JSON.parse(reply.data as string).code, 4009);
    assert.equal((await client.waitForClose()).code, 4009);
  });

  it('answers malformed signin frames with 4200 and keeps the connection', async () => {
    const client = await connect();
    for (const data of [undefined, 'text', 5, { auth: 'x' }, { auth: 'x', user_data: { id: '1' } }]) {
      client.send({ event: 'pusher:signin', data });
      assert.equal(await client.nextRaw(), '{"event":"pusher:error","data":"{\\"code\\":4200,\\"message\\":\\"Invalid message format\\"}"}', JSON.stringify(data));
    }
    client.send({ event: 'pusher:ping' });
    assert.equal(await client.nextRaw(), '{"event":"pusher:pong"}');
  });

  it('terminate_connections closes every connection signed in as the user with 4009, and only those', async () => {
    const [tab1, tab2, other] = [await connect(), await connect(), await connect()];
    for (const [client, id] of [[tab1, '77'], [tab2, '77'], [other, '78']] as const) {
      signin(client, `{"id":"${id}"}`);
      await client.nextEvent('pusher:signin_success');
    }
    await api.terminateUserConnections('77');
    for (const client of [tab1, tab2]) {
      assert.equal((await client.next()).event, 'pusher:error');
      assert.equal((await client.waitForClose()).code, 4009);
    }
    other.send({ event: 'pusher:ping' });
    assert.equal(await other.nextRaw(), '{"event":"pusher:pong"}');
  });
});
