/**
 * The HTTP API on uWebSockets.js: reads the request while uWS still holds
 * it, streams the body in with onData under `max_request_size`, and writes
 * the answer corked (one syscall) with keep-alive.
 *
 * uWS v20.30 hands over a request whose Content-Length header is repeated,
 * reading the body by the first value. Such a request is answered 400 here
 * and the connection closed, as Node does: where its body ends, and so where
 * the next request starts, is ambiguous (the request smuggling pattern).
 * Requests uWS cannot parse at all never reach JavaScript (see
 * docs/transports.md).
 */
import { STATUS_CODES } from 'node:http';
import { errorResponse } from '../http/responses.js';
import type { ApiRequest, ApiResponse, HttpHandler } from '../http/types.js';
import { answer, answerHeaders, type InFlight } from './http-exchange.js';
import { BodyCollector, declaredTooLarge, refusedBody, type BodyResult } from './http-body.js';
import type { UwsHttpRequest, UwsHttpResponse } from './uws-api.js';
import { ResponseSink } from './http-stream.js';
import { formatAddress } from './uws-address.js';

export interface UwsHttpOptions {
  readonly handler: HttpHandler;
  readonly maxRequestSize: number;
  readonly inFlight: InFlight;
}

/** Node's IncomingMessage shape: lower-case names, repeated headers joined with ", ". */
function readHeaders(req: UwsHttpRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  req.forEach((name, value) => {
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  });
  return headers;
}

/** uWS calls onData at least once (isLast) for every request, bodiless ones included. */
function readBody(res: UwsHttpResponse, contentLength: string, limit: number): Promise<BodyResult> {
  if (declaredTooLarge(contentLength, limit)) return Promise.resolve(refusedBody(limit));
  const body = new BodyCollector(limit);
  return new Promise((resolve) => {
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      if (!body.add(new Uint8Array(chunk)) || isLast) {
        done = true;
        resolve(body.result());
      }
    });
  });
}

const BAD_FRAMING = errorResponse(400, 'Bad request.');

/** Repeated Content-Length headers arrive joined ("3, 5" or "3, 3"): anything but digits is refused. */
function badFraming(headers: Record<string, string>): boolean {
  const length = headers['content-length'];
  return length !== undefined && !/^\d+$/.test(length);
}

function write(res: UwsHttpResponse, method: string, result: ApiResponse, closeConnection: boolean): void {
  res.writeStatus(`${result.status} ${STATUS_CODES[result.status] ?? ''}`);
  for (const [name, value] of Object.entries(answerHeaders(result))) res.writeHeader(name, value);
  if (result.stream && method !== 'HEAD') return;
  if (method === 'HEAD') res.endWithoutBody(Buffer.byteLength(result.body), closeConnection);
  else res.end(result.body, closeConnection);
}

export function serveHttp(res: UwsHttpResponse, req: UwsHttpRequest, options: UwsHttpOptions): void {
  const method = req.getMethod().toUpperCase();
  const headers = readHeaders(req);
  if (badFraming(headers)) {
    // Answered at once (uWS is corked here) and closed: the rest of the bytes is never parsed.
    write(res, method, BAD_FRAMING, true);
    return;
  }
  const remoteAddress = formatAddress(new Uint8Array(res.getRemoteAddress()));
  const request: Omit<ApiRequest, 'body'> = { method, path: req.getUrl(), query: req.getQuery() ?? '', headers, remoteAddress };
  let aborted = false;
  let stream: ResponseSink | undefined;
  let counted = true;
  // An aborted request whose body never completed leaves the promise below pending
  // forever: stop counting it here, or a graceful shutdown waits for it in vain.
  const done = () => {
    if (counted) options.inFlight.end();
    counted = false;
  };
  res.onAborted(() => {
    aborted = true;
    done();
    stream?.gone();
  });
  options.inFlight.begin();
  readBody(res, req.getHeader('content-length'), options.maxRequestSize)
    .then(async (body) => {
      const result = await answer(options.handler, request, body);
      if (aborted) return;
      // A refused body may still be arriving: close rather than parse it as the next request.
      const closeConnection = body.tooLarge !== undefined;
      res.cork(() => write(res, method, result, closeConnection));
      if (result.stream && method !== 'HEAD') {
        // Chunks are written corked (one syscall each); the backlog counts what uWS had to buffer since it last kept up.
        let backlog = 0;
        stream = new ResponseSink({
          write: (chunk) => {
            let written = true;
            res.cork(() => (written = res.write(chunk)));
            backlog = written ? 0 : backlog + Buffer.byteLength(chunk);
            return backlog;
          },
          end: () => res.cork(() => res.end()),
        });
        result.stream.open(stream);
      }
    })
    .finally(done);
}
