/** The parts of the Laravel Pulse writer that time and chance decide, with a fixed clock and dice. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateCounts } from '../../src/pulse/aggregate.js';
import { MAX_KEPT_TALLIES, MessageCounts, type Tally } from '../../src/pulse/counts.js';
import { sampled } from '../../src/pulse/sampling.js';

describe('Pulse aggregation', () => {
  it('buckets each second per period as floor(t / period) * period and adds up what shares a bucket', () => {
    // 2026-01-01 00:00:00 UTC is a multiple of 60, 360, 1440 and 10080: a bucket edge for every period.
    const edge = 1_767_225_600;
    const tallies: Tally[] = [
      { second: edge - 1, appId: 'a', sent: 2, received: 1 },
      { second: edge, appId: 'a', sent: 5, received: 0 },
      { second: edge + 59, appId: 'a', sent: 1, received: 0 },
    ];
    const rows = aggregateCounts(tallies, edge + 59).map((row) => [row.type, row.period, row.bucket, row.value]);
    assert.deepEqual(rows, [
      ['reverb_message:sent', 60, edge - 60, 2],
      ['reverb_message:sent', 360, edge - 360, 2],
      ['reverb_message:sent', 1440, edge - 1440, 2],
      ['reverb_message:sent', 10_080, edge - 10_080, 2],
      ['reverb_message:received', 60, edge - 60, 1],
      ['reverb_message:received', 360, edge - 360, 1],
      ['reverb_message:received', 1440, edge - 1440, 1],
      ['reverb_message:received', 10_080, edge - 10_080, 1],
      ['reverb_message:sent', 60, edge, 6],
      ['reverb_message:sent', 360, edge, 6],
      ['reverb_message:sent', 1440, edge, 6],
      ['reverb_message:sent', 10_080, edge, 6],
    ]);
  });

  it('leaves out of a period what is older than its span, as Pulse does with what it would trim', () => {
    const now = 1_767_225_600;
    const old = [{ second: now - 3601, appId: 'a', sent: 1, received: 0 }];
    assert.deepEqual(aggregateCounts(old, now).map((row) => row.period), [360, 1440, 10_080]);
    assert.deepEqual(aggregateCounts([{ ...old[0]!, second: now - 3600 }], now).map((row) => row.period), [60, 360, 1440, 10_080]);
  });
});

describe('Pulse counts', () => {
  it('tallies per app and second, and keeps what a failed write gives back ahead of newer counts', () => {
    let now = 1_000_000;
    const counts = new MessageCounts(() => now);
    counts.add('a', 'sent', 3);
    counts.add('a', 'received', 1);
    counts.add('b', 'sent', 1);
    now += 1000;
    counts.add('a', 'sent', 1);
    const taken = counts.take();
    assert.deepEqual(taken, [
      { second: 1000, appId: 'a', sent: 3, received: 1 },
      { second: 1000, appId: 'b', sent: 1, received: 0 },
      { second: 1001, appId: 'a', sent: 1, received: 0 },
    ]);
    counts.add('a', 'received', 2);
    assert.equal(counts.keep(taken, 1001), 5, 'older than the oldest second worth keeping: dropped');
    assert.deepEqual(counts.take(), [
      { second: 1001, appId: 'a', sent: 1, received: 0 },
      { second: 1001, appId: 'a', sent: 0, received: 2 },
    ]);
  });

  it(`keeps at most ${MAX_KEPT_TALLIES} tallies, dropping the oldest`, () => {
    const counts = new MessageCounts();
    const failed = Array.from({ length: MAX_KEPT_TALLIES + 2 }, (_, second) => ({ second, appId: 'a', sent: 1, received: 1 }));
    assert.equal(counts.keep(failed, 0), 4);
    const kept = counts.take();
    assert.equal(kept.length, MAX_KEPT_TALLIES);
    assert.equal(kept[0]!.second, 2);
  });
});

describe('Pulse sampling', () => {
  it('keeps each message with the odds of the sample rate', () => {
    const dice = [0.1, 0.5, 0.29, 0.3, 0.99];
    assert.equal(sampled(5, 0.3, () => dice.shift()!), 2);
    assert.equal(sampled(7, 1, () => assert.fail('no dice at rate 1')), 7);
    assert.equal(sampled(7, 0), 0);
  });
});
