/**
 * Attacks with cheap requests that used to be expensive to answer or to keep
 * (issue 14): floods of 1-byte invalid frames (once made `/up` fail on uWS),
 * client events nested ~5 000 deep (each threw in JSON.stringify, was logged
 * at error level and cost ~8 ms), one connection subscribing to as many
 * channels as it likes (1 000 000 channels: 1.2 GB), and channel names that
 * are also Object.prototype keys. Each runs against a server with a canary
 * client on it and its RSS sampled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTACK_BYTES_PER_SECOND,
  FLOOD_RSS_MIB,
  INVALID_FRAME,
  TOO_FAST,
  TOO_FAST_FRAME,
  UNTHROTTLED_APP,
  answerPings,
  assertCanaryUnaffected,
  attackScene,
  chunked,
  cpuMs,
  errorFrameText,
  floodUntilClosed,
  repeated,
  textFrame,
  waitUntil,
} from '../helpers/attack.js';
import { occupiedChannels } from '../helpers/clients.js';
import type { TestApp } from '../helpers/server.js';

const RATE_LIMITED = errorFrameText(4301, 'Rate limit exceeded: more than 200 messages per second; messages are dropped.');
/** Server log lines a test may add whatever the attacker does (client mistakes are not logged one by one). */
const LOG_LINES_ALLOWED = 15;

const logLines = (output: string) => output.split('\n').filter((line) => line.trim() !== '').length;

describe('attack: a flood of 1-byte invalid frames from a client that never reads', () => {
  const ONE_BYTE_FRAMES = repeated(textFrame('x'));

  it('closed with 4100 after twice the message rate, /up keeps answering, nothing logged per frame', async (t) => {
    const scene = await attackScene(t);
    const attacker = await scene.rawSocket();
    const linesBefore = logLines(scene.server.output());
    const closedAfter = await floodUntilClosed(scene, attacker, ONE_BYTE_FRAMES, { bytesPerSecond: ATTACK_BYTES_PER_SECOND });
    const { texts, close } = await attacker.readToEnd(5000);
    const { canary, rss } = await scene.finish();
    t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms, ${texts.length} frames queued`);
    // Each frame within the rate is answered 4200 (199 or 200, as the second turns); then 4301 once, then the close.
    const answered = texts.filter((text) => text === INVALID_FRAME).length;
    assert.ok(answered === 199 || answered === 200, `${answered} invalid frames answered`);
    assert.deepEqual(texts.slice(-2), [RATE_LIMITED, TOO_FAST_FRAME]);
    assert.deepEqual(close, TOO_FAST);
    assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
    assert.ok(logLines(scene.server.output()) - linesBefore < LOG_LINES_ALLOWED, `the server logged:\n${scene.server.output()}`);
    assertCanaryUnaffected(canary);
  });

  /**
   * What a closed connection still sends must cost next to nothing: on uWS a
   * 4 MiB/s stream of 1-byte frames after the close takes ~3 % of a CPU until
   * the socket is cut. Otherwise every new connection buys an attacker the
   * close grace period's worth of server CPU.
   */
  const MAX_CPU_SHARE = 0.2;

  it(`going on at 4 MiB/s after the close: cut off, and until then it costs the server under ${MAX_CPU_SHARE * 100} % of a CPU`, async (t) => {
    const scene = await attackScene(t);
    const attacker = await scene.rawSocket();
    const pid = scene.server.process.pid!;
    const [cpuBefore, start] = [cpuMs(pid), performance.now()];
    const closedAfter = await floodUntilClosed(scene, attacker, ONE_BYTE_FRAMES, { maxMs: 6000, bytesPerSecond: ATTACK_BYTES_PER_SECOND, ignoreClose: true });
    assert.ok(attacker.isClosed, 'the server never cut the TCP connection of the attacker');
    const elapsed = attacker.closedAt! - start;
    const share = (cpuMs(pid) - cpuBefore) / elapsed;
    const { canary, rss } = await scene.finish();
    t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms, cut after ${Math.round(elapsed)} ms; server CPU ${Math.round(share * 100)} % meanwhile`);
    assert.ok(share < MAX_CPU_SHARE, `the server spent ${Math.round(share * 100)} % of a CPU on the attacker until it cut it off after ${Math.round(elapsed)} ms`);
    assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
    assertCanaryUnaffected(canary);
  });
});

describe('attack: client events nested 5 000 deep', () => {
  const DEEP_APP: TestApp = { ...UNTHROTTLED_APP, max_message_size: 20_000 };
  const COUNT = 1000;
  /**
   * Was ~8 ms each (a throw in JSON.stringify and an error log line); a depth
   * check is a scan of 10 KB: measured 0.1-0.2 ms, up to 1.5 ms on a busy machine.
   */
  const MAX_MS_EACH = 3;

  it(`${COUNT} of them as fast as possible: each answered 4200, none relayed, none logged, the canary unaffected`, async (t) => {
    const scene = await attackScene(t, { apps: [DEEP_APP] });
    const [sender, receiver] = [await scene.connect(DEEP_APP), await scene.connect(DEEP_APP)];
    for (const client of [sender, receiver]) {
      answerPings(client);
      await client.subscribe('private-deep', { key: DEEP_APP.key, secret: DEEP_APP.secret });
    }
    const deep = `{"event":"client-deep","channel":"private-deep","data":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const linesBefore = logLines(scene.server.output());
    const start = performance.now();
    for (let i = 0; i < COUNT; i++) sender.ws.send(deep);
    for (let i = 0; i < COUNT; i++) assert.equal(await sender.nextRaw(10_000), INVALID_FRAME, `answer ${i}`);
    const elapsed = performance.now() - start;
    await receiver.expectSilence(100);
    const { canary, rss } = await scene.finish();
    t.diagnostic(`[${scene.server.transport}] ${COUNT} answered in ${Math.round(elapsed)} ms (${(elapsed / COUNT).toFixed(3)} ms each)`);
    assert.ok(elapsed < COUNT * MAX_MS_EACH, `${COUNT} deep events took ${Math.round(elapsed)} ms`);
    assert.ok(logLines(scene.server.output()) - linesBefore < LOG_LINES_ALLOWED, `the server logged:\n${scene.server.output()}`);
    assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB`);
    assertCanaryUnaffected(canary);
  });
});

describe('attack: one connection subscribing to many channels', () => {
  const limitFrame = (channel: string) =>
    `{"event":"pusher:subscription_error","data":"{\\"type\\":\\"LimitReached\\",\\"error\\":\\"A connection may be subscribed to at most 100 channels.\\",\\"status\\":4100}","channel":"${channel}"}`;

  it('the 101st subscribe gets the LimitReached subscription_error; the connection stays usable', async (t) => {
    const scene = await attackScene(t);
    const client = await scene.connect();
    for (let i = 0; i < 100; i++) client.send({ event: 'pusher:subscribe', data: { channel: `many-${i}` } });
    for (let i = 0; i < 100; i++) assert.equal(await client.nextRaw(), `{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"many-${i}"}`);
    client.send({ event: 'pusher:subscribe', data: { channel: 'many-100' } });
    assert.equal(await client.nextRaw(), limitFrame('many-100'));
    // Still open and still capped at 100: leaving one channel makes room for exactly one.
    client.send({ event: 'pusher:unsubscribe', data: { channel: 'many-0' } });
    client.send({ event: 'pusher:subscribe', data: { channel: 'many-100' } });
    client.send({ event: 'pusher:subscribe', data: { channel: 'many-101' } });
    assert.equal(await client.nextRaw(), '{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"many-100"}');
    assert.equal(await client.nextRaw(), limitFrame('many-101'));
    assert.equal((await occupiedChannels(scene.api)).length, 101, '100 of the client, and the canary');
    const { canary } = await scene.finish();
    assertCanaryUnaffected(canary);
  });

  it('a flood of subscribes to new channels from a client that never reads: 100 held, the rest refused, then closed; all released', async (t) => {
    const scene = await attackScene(t);
    const attacker = await scene.rawSocket();
    // More than the 400 messages a second after which the attacker is closed.
    const frames = Array.from({ length: 2000 }, (_, i) => textFrame(`{"event":"pusher:subscribe","data":{"channel":"flood-${i}"}}`));
    // The attacker's first subscribe is its own `attacker` channel, the one its close is watched on.
    const closedAfter = await floodUntilClosed(scene, attacker, chunked(frames));
    const { texts, close } = await attacker.readToEnd(5000);
    const subscribed = texts.filter((text) => text.startsWith('{"event":"pusher_internal:subscription_succeeded"')).length;
    const refused = texts.filter((text) => text.startsWith('{"event":"pusher:subscription_error"')).length;
    await waitUntil('only the canary channel is left', async () => (await occupiedChannels(scene.api)).length === 1, { timeoutMs: 3000 });
    const { canary, rss } = await scene.finish();
    t.diagnostic(`[${scene.server.transport}] closed after ${Math.round(closedAfter)} ms: ${subscribed} subscribed, ${refused} refused`);
    assert.equal(subscribed, 100, 'its own channel and 99 of the flood');
    // The rest of the messages within the rate (200 a second) are refused; then 4301 once, then the close.
    assert.ok(refused === 99 || refused === 100, `${refused} refused`);
    assert.equal(texts.find((text) => text.startsWith('{"event":"pusher:subscription_error"')), limitFrame('flood-99'));
    assert.deepEqual(texts.slice(-2), [RATE_LIMITED, TOO_FAST_FRAME]);
    assert.deepEqual(close, TOO_FAST);
    assert.ok(rss.growth < FLOOD_RSS_MIB, `RSS grew by ${rss.growth} MiB (1 000 000 channels took 1.2 GB)`);
    assertCanaryUnaffected(canary);
  });
});

describe('attack: channel names that are Object.prototype keys', () => {
  const NAMES = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__'];

  it('each is listed by GET /channels and answered by GET /channels/{name}, and receives events', async (t) => {
    const scene = await attackScene(t);
    const client = await scene.connect();
    for (const name of NAMES) assert.equal((await client.subscribe(name)).event, 'pusher_internal:subscription_succeeded', name);
    const listed = await scene.api.get({ path: '/channels', params: { info: 'subscription_count' } });
    const { channels } = (await listed.json()) as { channels: Record<string, { subscription_count: number }> };
    for (const name of NAMES) assert.deepEqual(Object.getOwnPropertyDescriptor(channels, name)?.value, { subscription_count: 1 }, name);
    for (const name of NAMES) {
      const response = await scene.api.get({ path: `/channels/${name}`, params: { info: 'subscription_count' } });
      assert.deepEqual(await response.json(), { occupied: true, subscription_count: 1 }, name);
    }
    await scene.api.trigger('__proto__', 'polluted', 'no');
    assert.equal(await client.nextRaw(), '{"event":"polluted","data":"no","channel":"__proto__"}');
    const { canary } = await scene.finish();
    assertCanaryUnaffected(canary);
  });
});
