import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogLimiter } from '../../src/observability/log-limiter.js';

describe('LogLimiter', () => {
  it('writes the first lines of each window per kind and reports how many it left out', () => {
    let now = 0;
    const limiter = new LogLimiter(2, 1000, () => now);
    const written: [string, number][] = [];
    for (let i = 0; i < 5; i++) limiter.log('a', (suppressed) => written.push(['a', suppressed]));
    limiter.log('b', (suppressed) => written.push(['b', suppressed]));
    assert.deepEqual(written, [['a', 0], ['a', 0], ['b', 0]]);
    now = 1000;
    limiter.log('a', (suppressed) => written.push(['a', suppressed]));
    limiter.log('a', (suppressed) => written.push(['a', suppressed]));
    assert.deepEqual(written.slice(3), [['a', 3], ['a', 0]]);
  });
});
