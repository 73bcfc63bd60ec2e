/**
 * Redis command latency of the scaling link, scraped from a one-server
 * cluster with its own redis-server: a subscription moves the histogram of
 * SUBSCRIBE and of the subscription script (named, not EVALSHA), an API
 * publish that of PUBLISH, each by exactly one; a Redis that stops answering
 * turns the command sent meanwhile into a timeout failure.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiClient, eventually } from '../helpers/clients.js';
import { startCluster } from '../helpers/cluster.js';
import { DEFAULT_APP } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';
import { scrapeMetrics } from '../helpers/metrics.js';

const scrape = (url: string) => scrapeMetrics(url);

describe('metrics of the Redis link', () => {
  it('times every command by name, and counts the ones that fail', { timeout: 60_000 }, async () => {
    const cluster = await startCluster(1, { server: { metrics: { enabled: true } } });
    const server = cluster.servers[0]!;
    const client = await RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
    const count = (values: Map<string, number>, command: string) =>
      values.get(`reverb_redis_command_duration_seconds_count{port="${server.port}",command="${command}"}`) ?? 0;
    const failures = (values: Map<string, number>, command: string, reason: string) =>
      values.get(`reverb_redis_command_failures_total{port="${server.port}",command="${command}",reason="${reason}"}`) ?? 0;
    try {
      // Registration and heartbeats have already been timed, by script name.
      await eventually(async () => assert.ok(count(await scrape(server.url), 'reverbHeartbeat') >= 1), 10_000);
      const initial = await scrape(server.url);
      assert.equal(count(initial, 'evalsha'), 0, 'scripts are named');
      for (const name of initial.keys()) assert.doesNotMatch(name, /command="[^"]*(reverb-test|channel)/, 'no key or channel in a label');

      const before = await scrape(server.url);
      await client.subscribe('timed');
      const subscribed = await scrape(server.url);
      assert.equal(count(subscribed, 'subscribe') - count(before, 'subscribe'), 1);
      assert.equal(count(subscribed, 'reverbSubscription') - count(before, 'reverbSubscription'), 1);
      assert.equal(count(subscribed, 'publish'), count(before, 'publish'));

      await apiClient(server).trigger('timed', 'tick', { n: 1 });
      await client.nextEvent('tick');
      await eventually(async () => assert.equal(count(await scrape(server.url), 'publish') - count(subscribed, 'publish'), 1));
      const published = await scrape(server.url);
      const sum = published.get(`reverb_redis_command_duration_seconds_sum{port="${server.port}",command="publish"}`) ?? 0;
      assert.ok(sum > 0 && sum < 1, `a publish round trip takes well under a second (${sum})`);
      assert.equal(
        published.get(`reverb_redis_command_duration_seconds_bucket{le="5",port="${server.port}",command="publish"}`),
        count(published, 'publish'),
      );
      assert.equal(failures(published, 'publish', 'timeout'), 0);

      // A Redis that stops answering: the publish sent meanwhile times out (ioredis's 5 s commandTimeout).
      cluster.redis.pause();
      try {
        await apiClient(server).trigger('timed', 'tick', { n: 2 });
        await eventually(async () => assert.equal(failures(await scrape(server.url), 'publish', 'timeout'), 1), 15_000);
      } finally {
        cluster.redis.resume();
      }
      await eventually(async () => assert.equal((await scrape(server.url)).get(`reverb_redis_connected{port="${server.port}"}`), 1), 15_000);
    } finally {
      client.close();
      await cluster.stop();
    }
  });
});
