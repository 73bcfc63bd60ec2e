/**
 * End-of-iteration write coalescing, shared by the transports. Frames for a
 * socket are queued and written together once every callback of the current
 * event-loop iteration has run (setImmediate). Under load, the events that
 * several API requests of one iteration publish reach each subscriber in one
 * syscall instead of one each, which is most of a broadcast's cost; when
 * idle, the delay is the rest of the iteration (microseconds).
 */

export interface BatchedSocket {
  /** Writes everything queued for this socket (it may have closed meanwhile). */
  flush(): void;
}

/** uWS's cork buffer size: beyond it, a corked write takes more than one syscall anyway. */
const FLUSH_BYTES = 16 * 1024;

const waiting = new Set<BatchedSocket>();
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  for (const socket of waiting) socket.flush();
  waiting.clear();
}

/**
 * The frames one socket has waiting for the flush, in order: one frame as
 * itself (the usual case when events are rare: no array per recipient), two
 * or more in an array.
 */
export class FrameQueue<Frame extends string | Uint8Array> {
  /** Empty most of the time: most sockets are idle most of the time. */
  private queued: Frame | Frame[] | undefined;
  private bytes = 0;

  constructor(private readonly owner: BatchedSocket) {}

  get isEmpty(): boolean {
    return this.queued === undefined;
  }

  push(frame: Frame, size: number): void {
    const queued = this.queued;
    if (queued === undefined) {
      this.queued = frame;
      waiting.add(this.owner);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushAll);
      }
    } else if (Array.isArray(queued)) {
      queued.push(frame);
    } else {
      this.queued = [queued, frame];
    }
    this.bytes += size;
    if (this.bytes >= FLUSH_BYTES) this.owner.flush();
  }

  /** Empties the queue, returning what was in it: undefined, one frame, or an array of several. */
  take(): Frame | Frame[] | undefined {
    const queued = this.queued;
    this.queued = undefined;
    this.bytes = 0;
    return queued;
  }
}

/**
 * Resolves once the frames queued so far have been written (setImmediate
 * callbacks run in order, and the flush was scheduled when the first of them
 * was queued).
 */
export function queuedWritesDone(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
