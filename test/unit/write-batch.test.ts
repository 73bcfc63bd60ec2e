import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { FrameQueue } from '../../src/transport/write-batch.js';

/** A socket that records what each flush wrote. */
class RecordingSocket {
  readonly writes: string[][] = [];
  readonly queue = new FrameQueue<string>(this);

  flush(): void {
    const queued = this.queue.take();
    if (queued !== undefined) this.writes.push(Array.isArray(queued) ? queued : [queued]);
  }
}

describe('write batching', () => {
  it('writes nothing until the event-loop iteration is over, then everything queued in order, once', async () => {
    const socket = new RecordingSocket();
    socket.queue.push('a', 1);
    socket.queue.push('bb', 2);
    await Promise.resolve();
    assert.deepEqual(socket.writes, []);
    await nextIteration();
    assert.deepEqual(socket.writes, [['a', 'bb']]);
    assert.ok(socket.queue.isEmpty);
  });

  it('hands a single frame over as itself, several as an array', () => {
    const socket = new RecordingSocket();
    socket.queue.push('one', 3);
    assert.equal(socket.queue.take(), 'one');
    socket.queue.push('one', 3);
    socket.queue.push('two', 3);
    assert.deepEqual(socket.queue.take(), ['one', 'two']);
    assert.equal(socket.queue.take(), undefined);
  });

  it('flushes every socket that queued something, and schedules again after a flush', async () => {
    const [one, two] = [new RecordingSocket(), new RecordingSocket()];
    one.queue.push('1', 1);
    two.queue.push('2', 1);
    await nextIteration();
    one.queue.push('3', 1);
    await nextIteration();
    assert.deepEqual(one.writes, [['1'], ['3']]);
    assert.deepEqual(two.writes, [['2']]);
  });

  it('writes at once when 16 KiB are queued', () => {
    const socket = new RecordingSocket();
    socket.queue.push('small', 5);
    socket.queue.push('large', 16 * 1024);
    assert.deepEqual(socket.writes, [['small', 'large']]);
  });

  it('lets a socket flush early (before closing): the scheduled flush then finds nothing', async () => {
    const socket = new RecordingSocket();
    socket.queue.push('last words', 10);
    socket.flush();
    await nextIteration();
    assert.deepEqual(socket.writes, [['last words']]);
  });
});
