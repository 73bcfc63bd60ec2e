/** JSON responses with real status codes; every body is JSON (pusher-http-php needs it). */
import type { LimitName } from '../protocol/observer.js';
import type { ApiResponse } from './types.js';

export function json(body: unknown, status = 200): ApiResponse {
  return { status, body: JSON.stringify(body) };
}

export function errorResponse(status: number, message: string, headers?: Record<string, string>): ApiResponse {
  return { status, body: JSON.stringify({ error: message }), headers };
}

/** A client mistake in the request: 400 (or the given status) with the reason. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** A request refused by one of the app's limits, named for metrics. */
export class LimitExceeded extends BadRequest {
  constructor(
    readonly limit: LimitName,
    message: string,
    status = 400,
    headers?: Readonly<Record<string, string>>,
  ) {
    super(message, status, headers);
  }
}

export function payloadTooLarge(limit: number): ApiResponse {
  return errorResponse(
    413,
    `Payload too large: the request body exceeds max_request_size (${limit} bytes; REVERB_MAX_REQUEST_SIZE).`,
  );
}
