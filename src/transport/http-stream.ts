/**
 * The open end of a streamed HTTP response (Server-Sent Events), shared by the
 * transports: each gives the raw write and end; this keeps the state, runs
 * the close handlers once, and ends a stream whose reader fell too far behind
 * instead of buffering for it without bound.
 */
import type { StreamSink } from '../http/types.js';

/** Bytes a streamed response may have queued for a slow reader before it is ended. */
export const MAX_STREAM_BACKLOG = 1 << 20;

export interface StreamIo {
  /** Writes a chunk; returns the bytes still queued for the peer. */
  write(chunk: string): number;
  end(): void;
}

export class ResponseSink implements StreamSink {
  private closed = false;
  private readonly handlers: (() => void)[] = [];

  constructor(private readonly io: StreamIo) {}

  write(chunk: string): boolean {
    if (this.closed) return false;
    if (this.io.write(chunk) <= MAX_STREAM_BACKLOG) return true;
    this.end();
    return false;
  }

  end(): void {
    if (this.closed) return;
    this.io.end();
    this.gone();
  }

  /** The peer went away (or the stream ended): the handlers run once. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    for (const handler of this.handlers.splice(0)) handler();
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.handlers.push(handler);
  }
}
