/** The transport-neutral part of serving one HTTP API request, shared by the transports. */
import type { ApiRequest, ApiResponse, HttpHandler } from '../http/types.js';
import type { BodyResult } from './http-body.js';
import { queuedWritesDone } from './write-batch.js';

const INTERNAL_ERROR: ApiResponse = { status: 500, body: '{"error":"Internal server error."}' };

/** The answer to a request: 413 for an oversized body, the handler's, or 500 if it throws. */
export async function answer(handler: HttpHandler, request: Omit<ApiRequest, 'body'>, body: BodyResult): Promise<ApiResponse> {
  if (body.tooLarge) return body.tooLarge;
  let response: ApiResponse;
  try {
    response = await handler({ ...request, body: body.bytes });
  } catch {
    return INTERNAL_ERROR;
  }
  // Answer once the events this request published are on the local subscribers'
  // sockets: the publisher learns "delivered here", and the fan-out goes first.
  await queuedWritesDone();
  return response;
}

/** Headers of an answer besides Content-Length (which each transport writes its own way). */
export function answerHeaders(response: ApiResponse): Record<string, string> {
  return { 'Content-Type': 'application/json', ...response.headers };
}

/** Counts requests being answered, so that a graceful shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private idle: (() => void)[] = [];

  begin(): void {
    this.count++;
  }

  end(): void {
    if (--this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Resolves when no request is in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.count === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
