import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configuredCapacity, parseOpenFileLimit, raiseOpenFileLimit, readOpenFileLimit } from '../../src/ops/open-files.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0 && existsSync('/proc/self/limits');

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('open-file limit', () => {
  it('parses /proc/<pid>/limits', () => {
    assert.deepEqual(parseOpenFileLimit(LIMITS), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseOpenFileLimit('Max open files            unlimited            unlimited            files'), { soft: Infinity, hard: Infinity });
    assert.equal(parseOpenFileLimit('nothing here'), undefined);
  });

  it('sums max_connections into a capacity only when every app has one', () => {
    assert.equal(configuredCapacity([100, 250]), 350);
    assert.equal(configuredCapacity([100, null]), undefined);
  });

  it('raises the soft limit of a process to its hard limit with prlimit', { skip: !hasPrlimit && 'needs prlimit and /proc' }, async () => {
    const child = spawn('prlimit', ['--nofile=64:512', 'sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      // prlimit execs sleep in the same process: wait until the lowered limit is in place.
      const deadline = Date.now() + 5000;
      while (readOpenFileLimit(child.pid!)?.soft !== 64) {
        assert.ok(Date.now() < deadline, 'the child never got the lowered limit');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const result = raiseOpenFileLimit(child.pid!);
      assert.equal(result.problem, undefined);
      assert.deepEqual(result.limit, { soft: 512, hard: 512 });
      assert.deepEqual(readOpenFileLimit(child.pid!), { soft: 512, hard: 512 });
    } finally {
      child.kill();
    }
  });

  // Node raises its own soft limit at start-up, so this process is normally at its maximum.
  const own = readOpenFileLimit();
  it('leaves a limit that is already at its maximum alone', { skip: own?.soft !== own?.hard && 'soft limit below hard limit here' }, () => {
    assert.deepEqual(raiseOpenFileLimit(), { limit: own });
  });
});
