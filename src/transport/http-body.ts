/** Reads an HTTP request body with a size limit (`max_request_size`). */
import type { IncomingMessage } from 'node:http';
import type { ApiResponse } from '../http/types.js';
import { payloadTooLarge } from '../http/responses.js';

export interface BodyResult {
  readonly bytes: Buffer;
  /** Set when the body exceeded the limit; the response to send instead. */
  readonly tooLarge?: ApiResponse;
}

/** The result for a body over the limit: nothing read, a 413 to send. */
export function refusedBody(limit: number): BodyResult {
  return { bytes: Buffer.alloc(0), tooLarge: payloadTooLarge(limit) };
}

/** A body whose declared Content-Length is already over the limit is refused unread. */
export function declaredTooLarge(contentLength: string | undefined, limit: number): boolean {
  return Number(contentLength ?? 0) > limit;
}

/**
 * Collects body chunks up to `limit` bytes, for any transport. Chunks are
 * copied, because uWebSockets.js reuses the memory behind them.
 */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  /** Adds a chunk; false once the body is over the limit (stop reading and answer 413). */
  add(chunk: Uint8Array): boolean {
    this.size += chunk.length;
    if (this.size > this.limit) return false;
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  get tooLarge(): boolean {
    return this.size > this.limit;
  }

  result(): BodyResult {
    return this.tooLarge ? refusedBody(this.limit) : { bytes: Buffer.concat(this.chunks, this.size) };
  }
}

export function readBody(request: IncomingMessage, limit: number): Promise<BodyResult> {
  if (declaredTooLarge(request.headers['content-length'], limit)) {
    request.resume();
    return Promise.resolve(refusedBody(limit));
  }
  const body = new BodyCollector(limit);
  return new Promise((resolve, reject) => {
    request.on('data', (chunk: Buffer) => body.add(chunk));
    request.on('end', () => resolve(body.result()));
    request.on('error', reject);
  });
}
