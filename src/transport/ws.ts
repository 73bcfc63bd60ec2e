/**
 * The `ws` transport: one Node HTTP(S) listener for the WebSocket endpoint and
 * the HTTP API. Broadcast frames are framed once (header + payload in one
 * buffer) and written straight to each socket, coalesced per event-loop
 * iteration (write-batch.ts).
 */
import { STATUS_CODES, createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { PreparedFrame, SocketHandler, TransportSocket } from '../protocol/socket.js';
import { CLOSE_GRACE_MS, type Transport, type TransportCallbacks, type TransportOptions } from './types.js';
import { DescriptorGuard } from './descriptors.js';
import { readBody } from './http-body.js';
import { answer, answerHeaders, InFlight } from './http-exchange.js';
import { ResponseSink } from './http-stream.js';
import { matchSocketPath } from './paths.js';
import { FrameQueue, type BatchedSocket } from './write-batch.js';

interface WsPrepared extends PreparedFrame {
  /** The complete server-to-client WebSocket frame (FIN + text opcode, unmasked). */
  readonly bytes: Buffer;
}

/** Frames a text payload the way ws would, once, for every recipient. */
function frameText(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/**
 * The raw answer to a request Node's parser gave up on (bad syntax, headers
 * too large, too slow): JSON like every other answer, then the connection closes.
 */
function clientErrorResponse(code: string | undefined): string {
  const [status, message] =
    code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request timeout: the request was not received in time.']
      : code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request header fields too large.']
        : [400, 'Bad request.'];
  const body = JSON.stringify({ error: message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** ws keeps its net.Socket here; writing pre-framed bytes to it skips per-recipient framing. */
type RawSocketAccess = WebSocket & { _socket: Duplex & { writableLength: number } };

class WsSocket implements TransportSocket, BatchedSocket {
  readonly remoteAddress: string;
  private readonly raw: Duplex & { writableLength: number };
  private readonly queue = new FrameQueue<Buffer>(this);

  constructor(private readonly ws: WebSocket, remoteAddress: string) {
    this.remoteAddress = remoteAddress;
    this.raw = (ws as RawSocketAccess)._socket;
  }

  /** Direct replies go out at once, unless broadcast frames wait: then behind them, in order. */
  send(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.queue.isEmpty) {
      this.ws.send(text);
      return;
    }
    const frame = frameText(Buffer.from(text));
    this.queue.push(frame, frame.length);
  }

  sendPrepared(frame: PreparedFrame): void {
    const bytes = (frame as WsPrepared).bytes;
    if (this.ws.readyState === WebSocket.OPEN) this.queue.push(bytes, bytes.length);
  }

  flush(): void {
    const queued = this.queue.take();
    if (this.ws.readyState !== WebSocket.OPEN || queued === undefined) return;
    // Without permessage-deflate ws's sender never queues, so direct writes keep frame order;
    // corked, several frames leave in one writev.
    if (!Array.isArray(queued)) {
      this.raw.write(queued);
      return;
    }
    this.raw.cork();
    for (const frame of queued) this.raw.write(frame);
    this.raw.uncork();
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  close(code: number, reason = ''): void {
    if (this.ws.readyState !== WebSocket.OPEN && this.ws.readyState !== WebSocket.CONNECTING) return;
    this.flush();
    this.ws.close(code, reason);
    // A client closed for flooding or not reading (4100-4199) gets its close frame but nothing more
    // of what it sends is read: ws would otherwise parse a flood for the whole grace period.
    if (code >= 4100 && code < 4200) this.raw.pause();
    // ws itself waits 30 s for the peer's close frame.
    setTimeout(terminate, CLOSE_GRACE_MS, this.ws).unref();
  }

  get bufferedAmount(): number {
    return this.raw.writableLength;
  }
}

/**
 * Per-connection listeners are shared functions that find the handler on the
 * socket: no closure per connection, and nothing of the upgrade request (its
 * headers, the head buffer) stays reachable for the connection's lifetime.
 */
const HANDLER = Symbol('reverb.handler');
type HandledWebSocket = WebSocket & { [HANDLER]: SocketHandler };
const handlerOf = (ws: WebSocket): SocketHandler => (ws as HandledWebSocket)[HANDLER];

function onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  // Binary frames are read as UTF-8 text, as Reverb does.
  handlerOf(this).message(isBinary ? Buffer.from(data).toString('utf8') : data.toString());
}
function onPing(this: WebSocket): void {
  handlerOf(this).control(true);
}
function onPong(this: WebSocket): void {
  handlerOf(this).control(false);
}
function onClose(this: WebSocket, code: number): void {
  handlerOf(this).disconnected(code);
}
function terminate(ws: WebSocket): void {
  if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
}
/** Protocol violations (oversized, bad UTF-8, unmasked frames): ws closes with the RFC code. */
function onError(): void {}

function attach(ws: WebSocket, handler: SocketHandler): void {
  (ws as HandledWebSocket)[HANDLER] = handler;
  ws.on('message', onMessage).on('ping', onPing).on('pong', onPong).on('error', onError).on('close', onClose);
}

export class WsTransport implements Transport {
  readonly name = 'ws';
  private server: Server | undefined;
  private guard: DescriptorGuard | undefined;
  private readonly inFlight = new InFlight();

  prepare(text: string): PreparedFrame {
    const frame: WsPrepared = { text, bytes: frameText(Buffer.from(text)) };
    return frame;
  }

  async listen(options: TransportOptions, callbacks: TransportCallbacks): Promise<{ port: number }> {
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
    });
    wss.on('headers', (headers) => headers.push('X-Powered-By: Laravel Reverb'));

    const onRequest = (request: IncomingMessage, response: ServerResponse) => this.request(request, response, options, callbacks);
    // Slow or stalled requests (slowloris) are closed; Node checks at most every second, sooner for short timeouts.
    const requestTimeout = options.requestTimeout ?? 15_000;
    const headersTimeout = Math.min(options.headersTimeout ?? 10_000, requestTimeout);
    const httpOptions = {
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
      headersTimeout,
      requestTimeout,
    };
    const server = options.tls
      ? createHttpsServer({ ...httpOptions, ...options.tls }, onRequest)
      : createHttpServer(httpOptions, onRequest);
    server.keepAliveTimeout = 5000;
    this.server = server;

    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const appKey = matchSocketPath(request.url ?? '', options.path);
      if (appKey === undefined) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\nConnection: close\r\n\r\n{"error":"Not found."}');
        return;
      }
      const remoteAddress = request.socket.remoteAddress ?? '';
      const forwarded = request.headers['x-forwarded-for'];
      const forwardedFor = Array.isArray(forwarded) ? forwarded.join(', ') : forwarded;
      const upgrade = { appKey, origin: request.headers.origin, remoteAddress, forwardedFor };
      wss.handleUpgrade(request, socket, head, (ws) => attach(ws, callbacks.open(new WsSocket(ws, remoteAddress), upgrade)));
    });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      // Answer only if nothing of a response went out yet, as Node's default handler does.
      const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (error.code !== 'ECONNRESET' && socket.writable && !pending?.headersSent) socket.write(clientErrorResponse(error.code));
      socket.destroy();
    });

    await listenOn(server, options.host, options.port);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    this.guard = DescriptorGuard.start(
      {
        // http's own close() would also end idle keep-alive connections and its timeout checks: only the listener goes.
        pause: () => NetServer.prototype.close.call(server),
        resume: () => listenOn(server, options.host, port),
      },
      options.logger,
    );
    return { port };
  }

  private async request(
    request: IncomingMessage,
    response: ServerResponse,
    options: TransportOptions,
    callbacks: TransportCallbacks,
  ): Promise<void> {
    this.inFlight.begin();
    try {
      const url = request.url ?? '/';
      const queryStart = url.indexOf('?');
      const body = await readBody(request, options.maxRequestSize);
      const result = await answer(
        callbacks.http,
        {
          method: request.method ?? 'GET',
          path: queryStart < 0 ? url : url.slice(0, queryStart),
          query: queryStart < 0 ? '' : url.slice(queryStart + 1),
          headers: request.headers,
          remoteAddress: request.socket.remoteAddress,
        },
        body,
      );
      if (result.stream && request.method !== 'HEAD') {
        response.writeHead(result.status, answerHeaders(result));
        response.flushHeaders();
        const sink = new ResponseSink({
          write: (chunk) => (response.write(chunk), response.writableLength),
          end: () => response.end(),
        });
        response.once('close', () => sink.gone());
        result.stream.open(sink);
        return;
      }
      response.writeHead(result.status, {
        ...answerHeaders(result),
        'Content-Length': Buffer.byteLength(result.body),
        ...(body.tooLarge ? { Connection: 'close' } : {}),
      });
      response.end(result.body);
    } catch {
      // The request stream failed (client gone): nothing to answer.
      response.destroy();
    } finally {
      this.inFlight.end();
    }
  }

  async stopAccepting(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.guard?.stop();
    // Closing the listener (if the guard has not) is immediate; upgraded sockets are closed by the protocol.
    server.close();
    server.closeIdleConnections();
  }

  drainHttp(timeoutMs: number): Promise<void> {
    return this.inFlight.drain(timeoutMs);
  }
}
