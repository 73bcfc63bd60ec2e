import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextIteration } from 'node:timers/promises';
import { FrameQueue } from '../../src/transport/write-batch.js';

/** A socket that records what each flush wrote. */
class RecordingSocket {
  readonly writes: string[][] = [];
  readonly queue = new FrameQueue<string>(this);

  flush(): void {
    const frames = this.queue.take();
    if (frames.length > 0) this.writes.push(frames);
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
