/**
 * POST /apps/{id}/batch_events with hand-signed requests: Reverb's exact
 * response bytes, in-order delivery, per-item socket_id and info, Pusher's
 * 10-event limit (reference/protocol.md §3.3, reverb.md §7.7).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectClient, join, post, withClients } from '../helpers/http.js';
import { serverForSuite, type StartedServer } from '../helpers/server.js';

describe('POST /apps/{id}/batch_events', () => {
  let server: StartedServer;
  serverForSuite({}, { started: (started) => (server = started) });

  it('answers {"batch":{}} (Content-Length 12) when no item asks for info', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'batch-one');
      const response = await post(server, 'batch_events', { batch: [{ name: 'e', data: '{"a":1}', channel: 'batch-one' }] });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"batch":{}}');
      assert.equal(response.headers.get('content-length'), '12');
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(await client!.nextRaw(), '{"event":"e","data":"{\\"a\\":1}","channel":"batch-one"}');
    });
  });

  it('delivers the items in request order', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'batch-order-a');
      await join(client!, 'batch-order-b');
      const batch = Array.from({ length: 10 }, (_, i) => ({ name: `e${i}`, data: String(i), channel: i % 2 ? 'batch-order-b' : 'batch-order-a' }));
      const response = await post(server, 'batch_events', { batch });
      assert.equal(response.body, '{"batch":{}}');
      for (let i = 0; i < 10; i++) {
        const frame = await client!.next();
        assert.deepEqual([frame.event, frame.data, frame.channel], [`e${i}`, String(i), batch[i]!.channel]);
      }
    });
  });

  it('applies socket_id per item', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([a, b]) => {
      await join(a!, 'batch-except');
      await join(b!, 'batch-except');
      const response = await post(server, 'batch_events', {
        batch: [
          { name: 'not-for-a', data: '1', channel: 'batch-except', socket_id: a!.socketId },
          { name: 'not-for-b', data: '2', channel: 'batch-except', socket_id: b!.socketId },
          { name: 'for-both', data: '3', channel: 'batch-except' },
        ],
      });
      assert.equal(response.body, '{"batch":{}}');
      assert.deepEqual([(await a!.next()).event, (await a!.next()).event], ['not-for-b', 'for-both']);
      assert.deepEqual([(await b!.next()).event, (await b!.next()).event], ['not-for-a', 'for-both']);
      await a!.expectSilence(200);
    });
  });

  it('returns info for each item, in order', async () => {
    await withClients([connectClient(server), connectClient(server)], async ([member, other]) => {
      await join(member!, 'presence-batch-info', { user_id: 1 });
      await join(member!, 'batch-info');
      await join(other!, 'batch-info');
      const response = await post(server, 'batch_events', {
        batch: [
          { name: 'e', data: '1', channel: 'presence-batch-info', info: 'user_count' },
          { name: 'e', data: '2', channel: 'batch-info', info: 'subscription_count' },
          { name: 'e', data: '3', channel: 'presence-batch-info', info: 'user_count,subscription_count' },
        ],
      });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"batch":[{"user_count":1},{"subscription_count":2},{"user_count":1,"subscription_count":1}]}');
    });
  });

  it('returns {} for the items without info when some ask for it', async () => {
    await withClients([connectClient(server)], async ([member]) => {
      await join(member!, 'presence-batch-some', { user_id: '9' });
      const response = await post(server, 'batch_events', {
        batch: [
          { name: 'e', data: '1', channel: 'presence-batch-some', info: 'user_count' },
          { name: 'e', data: '2', channel: 'batch-some-empty' },
        ],
      });
      assert.equal(response.body, '{"batch":[{"user_count":1},{}]}');
    });
  });

  it('does not fail when an item excludes the only local subscriber', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'batch-only');
      const response = await post(server, 'batch_events', { batch: [{ name: 'e', data: 'd', channel: 'batch-only', socket_id: client!.socketId }] });
      assert.equal(response.status, 200);
      assert.equal(response.body, '{"batch":{}}');
      await client!.expectSilence(200);
    });
  });

  it('rejects more than 10 events with 400 and publishes nothing', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'batch-too-many');
      const batch = Array.from({ length: 11 }, (_, i) => ({ name: 'e', data: String(i), channel: 'batch-too-many' }));
      const response = await post(server, 'batch_events', { batch });
      assert.equal(response.status, 400);
      assert.match((response.json() as { error: string }).error, /10/);
      await client!.expectSilence(200);
    });
  });

  it('rejects a batch with one invalid item with 400 naming it, and publishes none of it', async () => {
    await withClients([connectClient(server)], async ([client]) => {
      await join(client!, 'batch-invalid');
      const response = await post(server, 'batch_events', {
        batch: [
          { name: 'e', data: 'ok', channel: 'batch-invalid' },
          { name: 'e', data: { not: 'a string' }, channel: 'batch-invalid' },
        ],
      });
      assert.equal(response.status, 400);
      assert.match((response.json() as { error: string }).error, /batch\[1\]\.data/);
      await client!.expectSilence(200);
    });
  });

  it('rejects bodies without a usable batch array with 400', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /batch/],
      [{ batch: [] }, /batch/],
      [{ batch: {} }, /batch/],
      [{ batch: 'x' }, /batch/],
      [{ batch: [null] }, /batch\[0\]/],
      [{ batch: ['e'] }, /batch\[0\]/],
      [{ batch: [{ data: 'd', channel: 'c' }] }, /batch\[0\]\.name/],
      [{ batch: [{ name: 'e', channel: 'c' }] }, /batch\[0\]\.data/],
      [{ batch: [{ name: 'e', data: 'd' }] }, /batch\[0\]\.channel/],
      [{ batch: [{ name: 'e', data: 'd', channels: ['c'] }] }, /batch\[0\]\.channel/],
      [{ batch: [{ name: 'e', data: 'd', channel: 'bad channel' }] }, /batch\[0\]\.channel/],
      [{ batch: [{ name: 'e', data: 'd', channel: 'c', socket_id: 1234 }] }, /batch\[0\]\.socket_id/],
      [{ batch: [{ name: 'e', data: 'd', channel: 'c', info: 1234 }] }, /batch\[0\]\.info/],
    ];
    for (const [body, message] of cases) {
      const response = await post(server, 'batch_events', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match((response.json() as { error: string }).error, message, JSON.stringify(body));
    }
  });
});
