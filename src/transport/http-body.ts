/** Reads an HTTP request body with a size limit (`max_request_size`). */
import type { IncomingMessage } from 'node:http';
import type { ApiResponse } from '../http/types.js';
import { payloadTooLarge } from '../http/responses.js';

export interface BodyResult {
  readonly bytes: Buffer;
  /** Set when the body exceeded the limit; the response to send instead. */
  readonly tooLarge?: ApiResponse;
}

export function readBody(request: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    request.resume();
    return Promise.resolve({ bytes: Buffer.alloc(0), tooLarge: payloadTooLarge(limit) });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    request.on('end', () =>
      resolve(over ? { bytes: Buffer.alloc(0), tooLarge: payloadTooLarge(limit) } : { bytes: Buffer.concat(chunks, size) }),
    );
    request.on('error', reject);
  });
}
