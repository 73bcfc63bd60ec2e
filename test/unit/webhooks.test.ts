/**
 * The webhook dispatcher against a real HTTP receiver that validates every
 * request with the `pusher` SDK: format and signature, filters, Pusher's
 * 3 s vacate window (shortened here), retries, per-channel order, bounds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebhookDispatcher, fetchPost } from '../../src/webhooks/dispatcher.js';
import type { WebhookApp, WebhookTarget } from '../../src/webhooks/types.js';
import { backoffMs, isRetryable } from '../../src/webhooks/retry.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const APP = { app_id: 'hooks', key: 'hooks-key', secret: 'hooks-secret' };

function app(targets: WebhookTarget[], batching: WebhookApp['batching'] = null): WebhookApp {
  return { id: APP.app_id, key: APP.key, secret: APP.secret, webhooks: targets, batching };
}

function target(url: string, extra: Partial<WebhookTarget> = {}): WebhookTarget {
  return { url, eventTypes: null, filter: {}, headers: {}, ...extra };
}

describe('webhooks', () => {
  let receiver: WebhookReceiver;
  const dispatchers: WebhookDispatcher[] = [];
  const dispatcher = (targets: WebhookTarget[], options: { batching?: WebhookApp['batching']; maxQueued?: number } = {}) => {
    const created = new WebhookDispatcher([app(targets, options.batching)], {
      post: fetchPost,
      timeoutMs: 500,
      vacateDelayMs: 200,
      maxQueuedPerTarget: options.maxQueued,
    });
    dispatchers.push(created);
    return created;
  };

  before(async () => (receiver = await WebhookReceiver.start(APP)));
  after(async () => {
    await Promise.all(dispatchers.map((d) => d.close(100)));
    await receiver.close();
  });

  const reset = () => {
    receiver.received.length = 0;
    receiver.attempts = 0;
    receiver.respond(() => ({ status: 200 }));
  };

  it("sends Pusher's body and headers, accepted by the pusher SDK's webhook(); custom headers never replace them", async () => {
    reset();
    const hooks = dispatcher([target(receiver.url, { headers: { 'X-Tenant': 'a', 'X-Pusher-Key': 'forged', 'Content-Type': 'text/plain' } })]);
    const before = Date.now();
    hooks.emit(APP.app_id, { name: 'client_event', channel: 'private-a', event: 'client-x', data: '{"a":1}', socket_id: '1.2', user_id: '7' });
    await receiver.waitForEvents(1);
    const [webhook] = receiver.received;
    assert.equal(webhook!.valid, true);
    assert.equal(webhook!.headers['x-tenant'], 'a');
    assert.equal(webhook!.headers['x-pusher-key'], APP.key);
    assert.equal(webhook!.headers['content-type'], 'application/json');
    assert.deepEqual(webhook!.body.events, [{ name: 'client_event', channel: 'private-a', event: 'client-x', data: '{"a":1}', socket_id: '1.2', user_id: '7' }]);
    assert.ok(webhook!.body.time_ms >= before && webhook!.body.time_ms <= Date.now());
  });

  it('filters by event type and channel prefix and suffix (both must hold)', async () => {
    reset();
    const hooks = dispatcher([
      target(receiver.url, { eventTypes: ['channel_occupied'], filter: { channelNameStartsWith: 'private-', channelNameEndsWith: '-orders' } }),
    ]);
    hooks.channelOccupied(APP.app_id, 'public-orders');
    hooks.channelOccupied(APP.app_id, 'private-chat');
    hooks.emit(APP.app_id, { name: 'cache_miss', channel: 'private-orders' });
    hooks.channelOccupied(APP.app_id, 'private-orders');
    assert.deepEqual(await receiver.waitForEvents(1), [{ name: 'channel_occupied', channel: 'private-orders' }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(receiver.attempts, 1);
  });

  it('holds channel_vacated and member_removed back, and sends neither side of a quick leave-and-return', async () => {
    reset();
    const hooks = dispatcher([target(receiver.url)]);
    hooks.channelOccupied(APP.app_id, 'presence-room');
    hooks.memberAdded(APP.app_id, 'presence-room', '1');
    await receiver.waitForEvents(2);
    // A reload: leave and come back within the window.
    hooks.memberRemoved(APP.app_id, 'presence-room', '1');
    hooks.channelVacated(APP.app_id, 'presence-room');
    hooks.channelOccupied(APP.app_id, 'presence-room');
    hooks.memberAdded(APP.app_id, 'presence-room', '1');
    // A real departure.
    hooks.memberRemoved(APP.app_id, 'presence-room', '1');
    hooks.channelVacated(APP.app_id, 'presence-room');
    const started = Date.now();
    const events = await receiver.waitForEvents(4);
    assert.ok(Date.now() - started >= 150, 'sent after the delay');
    assert.deepEqual(events.slice(2), [
      { name: 'member_removed', channel: 'presence-room', user_id: '1' },
      { name: 'channel_vacated', channel: 'presence-room' },
    ]);
  });

  it('retries 5xx, 408 and 429 with backoff until accepted; never other 4xx', async () => {
    assert.deepEqual([undefined, 500, 503, 408, 429, 400, 401, 404, 410].map(isRetryable), [true, true, true, true, true, false, false, false, false]);
    assert.ok(backoffMs(1, () => 0) >= 500 && backoffMs(1, () => 1) <= 1000);
    assert.equal(backoffMs(20, () => 1), 60_000);
    reset();
    receiver.respond((attempt) => ({ status: attempt === 1 ? 503 : 200 }));
    const hooks = dispatcher([target(receiver.url)]);
    hooks.emit(APP.app_id, { name: 'cache_miss', channel: 'cache-a' });
    await receiver.waitForEvents(1, 5000);
    assert.equal(receiver.attempts, 2);
    reset();
    receiver.respond(() => ({ status: 400 }));
    hooks.emit(APP.app_id, { name: 'cache_miss', channel: 'cache-b' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.attempts, 1);
  });

  it("keeps each channel's events in order while a slow channel does not hold the others back", async () => {
    reset();
    receiver.respond((_attempt, body) => ({ status: 200, delayMs: body.events[0]!.channel === 'slow' ? 300 : 0 }));
    const hooks = dispatcher([target(receiver.url)]);
    for (let i = 0; i < 3; i++) hooks.emit(APP.app_id, { name: 'subscription_count', channel: 'slow', subscription_count: i });
    for (let i = 0; i < 3; i++) hooks.emit(APP.app_id, { name: 'subscription_count', channel: 'fast', subscription_count: i });
    const events = await receiver.waitForEvents(6, 5000);
    const order = (channel: string) => events.filter((e) => e.channel === channel).map((e) => e.subscription_count);
    assert.deepEqual(order('slow'), [0, 1, 2]);
    assert.deepEqual(order('fast'), [0, 1, 2]);
    assert.equal(events.slice(0, 3).filter((e) => e.channel === 'fast').length, 3, 'the fast channel went first');
  });

  it('batches events of one window into one request, up to the batch size', async () => {
    reset();
    const hooks = dispatcher([target(receiver.url)], { batching: { windowMs: 50, maxEvents: 4 } });
    for (let i = 0; i < 6; i++) hooks.emit(APP.app_id, { name: 'cache_miss', channel: `cache-${i}` });
    await receiver.waitForEvents(6);
    assert.deepEqual(receiver.received.map((webhook) => webhook.body.events.length).sort(), [2, 4]);
    assert.ok(receiver.received.every((webhook) => webhook.valid));
  });

  it('bounds what waits for an unreachable receiver and counts what it drops', async () => {
    let dropped = 0;
    const hooks = new WebhookDispatcher([app([target('http://127.0.0.1:9/unreachable')])], {
      post: () => new Promise(() => undefined),
      maxQueuedPerTarget: 5,
      concurrencyPerTarget: 1,
      dropped: () => dropped++,
    });
    for (let i = 0; i < 20; i++) hooks.emit(APP.app_id, { name: 'cache_miss', channel: 'cache-x' });
    assert.equal(dropped, 14, 'one in flight, five waiting, the rest dropped');
  });
});
