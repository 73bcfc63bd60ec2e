/**
 * The uWebSockets.js transport: the WebSocket endpoint and the HTTP API on
 * one uWS listener. A broadcast is UTF-8 encoded once; uWS frames it in C++
 * for each recipient straight into the socket, the frames of one event-loop
 * iteration corked into one syscall per recipient (write-batch.ts).
 *
 * Liveness (pings, timeouts) and the slow-consumer bound (close 4100) stay
 * with the protocol: uWS's idle timeout, automatic pings and backpressure
 * dropping are all switched off.
 */
import { createServer } from 'node:net';
import { errorResponse } from '../http/responses.js';
import { DescriptorGuard } from './descriptors.js';
import { InFlight } from './http-exchange.js';
import { matchSocketPath } from './paths.js';
import type { PreparedFrame, SocketHandler, TransportSocket, UpgradeRequest } from '../protocol/socket.js';
import type { Transport, TransportCallbacks, TransportOptions } from './types.js';
import type { UwsApp, UwsListenSocket, UwsModule, UwsWebSocket } from './uws-api.js';
import { formatAddress } from './uws-address.js';
import { serveHttp } from './uws-http.js';
import { createSslApp } from './uws-tls.js';
import { FrameQueue, type BatchedSocket } from './write-batch.js';

interface UwsPrepared extends PreparedFrame {
  /** The UTF-8 payload, encoded once for every recipient. */
  readonly bytes: Buffer;
}

/**
 * uWS delivers only whole messages and buffers the fragments (or the partial
 * frame) of one until it is complete, up to its maxPayloadLength: past that it
 * cuts the connection off at the TCP level (the client sees 1006), deciding
 * from the frame header. Set to twice `maxPayload`, messages up to twice the
 * limit are read whole so that the client gets a proper 1009 close, and an
 * unfinished message pins at most twice `max_message_size` per connection.
 */
const PAYLOAD_ALLOWANCE_FACTOR = 2;

/** What uWS keeps per connection (its "user data"). */
interface Session {
  /** Only until `open`: nothing of the upgrade request stays for the connection's lifetime. */
  request?: UpgradeRequest;
  socket?: UwsSocket;
  handler?: SocketHandler;
}

class UwsSocket implements TransportSocket, BatchedSocket {
  /** Set when uWS reports the close: any call on a closed uWS socket throws. */
  closed = false;
  private readonly queue = new FrameQueue<Buffer | string>(this);

  constructor(
    private readonly ws: UwsWebSocket<Session>,
    readonly remoteAddress: string,
  ) {}

  /** Direct replies go out at once, unless broadcast frames wait: then behind them, in order. */
  send(text: string): void {
    if (this.closed) return;
    if (this.queue.isEmpty) this.ws.send(text, false);
    else this.queue.push(text, text.length);
  }

  sendPrepared(frame: PreparedFrame): void {
    if (!this.closed) this.queue.push((frame as UwsPrepared).bytes, (frame as UwsPrepared).bytes.length);
  }

  flush(): void {
    const queued = this.queue.take();
    if (this.closed || queued === undefined) return;
    if (!Array.isArray(queued)) {
      this.ws.send(queued, false);
      return;
    }
    // Corked, uWS gathers the frames in one buffer and writes them with one syscall.
    this.ws.cork(() => {
      for (const frame of queued) this.ws.send(frame, false);
    });
  }

  ping(): void {
    if (!this.closed) this.ws.ping();
  }

  close(code: number, reason = ''): void {
    if (this.closed) return;
    this.flush();
    this.ws.end(code, reason);
  }

  get bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }
}

/** Node's error for a failed listen (uWS only reports failure), for a useful message. */
function listenError(host: string, port: number): Promise<Error> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', resolve);
    probe.listen(port, host, () => probe.close(() => resolve(new Error(`uWebSockets.js cannot listen on ${host}:${port}`))));
  });
}

export class UwsTransport implements Transport {
  readonly name = 'uws';
  private listenSocket: UwsListenSocket | undefined;
  private guard: DescriptorGuard | undefined;
  private readonly inFlight = new InFlight();

  constructor(private readonly uws: UwsModule) {}

  prepare(text: string): PreparedFrame {
    const frame: UwsPrepared = { text, bytes: Buffer.from(text) };
    return frame;
  }

  async listen(options: TransportOptions, callbacks: TransportCallbacks): Promise<{ port: number }> {
    const { uws } = this;
    const app = options.tls ? createSslApp(uws, options.tls) : uws.App();

    app.ws<Session>('/*', {
      maxPayloadLength: options.maxPayload * PAYLOAD_ALLOWANCE_FACTOR,
      idleTimeout: 0,
      maxBackpressure: 0,
      closeOnBackpressureLimit: false,
      sendPingsAutomatically: false,
      compression: uws.DISABLED,
      upgrade: (res, req, context) => {
        const appKey = matchSocketPath(req.getUrl(), options.path);
        if (appKey === undefined) {
          const notFound = errorResponse(404, 'Not found.');
          res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json').end(notFound.body, true);
          return;
        }
        const session: Session = {
          request: {
            appKey,
            origin: req.getHeader('origin') || undefined,
            remoteAddress: formatAddress(new Uint8Array(res.getRemoteAddress())),
            forwardedFor: req.getHeader('x-forwarded-for') || undefined,
          },
        };
        res.writeStatus('101 Switching Protocols').writeHeader('X-Powered-By', 'Laravel Reverb');
        res.upgrade(
          session,
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        const session = ws.getUserData();
        const request = session.request!;
        session.request = undefined;
        session.socket = new UwsSocket(ws, request.remoteAddress);
        session.handler = callbacks.open(session.socket, request);
      },
      message: (ws, message) => {
        const { socket, handler } = ws.getUserData();
        if (message.byteLength > options.maxPayload) {
          socket!.close(1009);
          return;
        }
        // Binary frames are read as UTF-8 text too, as Reverb does.
        handler!.message(Buffer.from(message).toString('utf8'));
      },
      ping: (ws) => ws.getUserData().handler!.control(true),
      pong: (ws) => ws.getUserData().handler!.control(false),
      close: (ws, code) => {
        const session = ws.getUserData();
        session.socket!.closed = true;
        // uWS reports a close from inside end(), i.e. in the middle of the
        // protocol code that decided to close; the protocol expects it after.
        queueMicrotask(() => session.handler!.disconnected(code));
      },
    });
    app.any('/*', (res, req) =>
      serveHttp(res, req, { handler: callbacks.http, maxRequestSize: options.maxRequestSize, inFlight: this.inFlight }),
    );

    const listenSocket = await this.listenOn(app, options.host, options.port);
    if (!listenSocket) throw await listenError(options.host, options.port);
    const port = uws.us_socket_local_port(listenSocket);
    this.listenSocket = listenSocket;
    this.guard = DescriptorGuard.start(
      {
        pause: () => this.closeListener(),
        resume: async () => {
          this.listenSocket = (await this.listenOn(app, options.host, port)) || undefined;
          if (!this.listenSocket) throw await listenError(options.host, port);
        },
      },
      options.logger,
    );
    return { port };
  }

  private listenOn(app: UwsApp, host: string, port: number): Promise<UwsListenSocket | false> {
    return new Promise((resolve) =>
      // Exclusive: by default uWS shares the port (SO_REUSEPORT) with another server already on it.
      app.listen(host, port, this.uws.LIBUS_LISTEN_EXCLUSIVE_PORT, resolve),
    );
  }

  /** Open WebSockets and keep-alive HTTP connections stay: only new connections are refused. */
  private closeListener(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  async stopAccepting(): Promise<void> {
    this.guard?.stop();
    // Open WebSockets stay until the protocol closes them; keep-alive HTTP
    // connections end at uWS's idle timeout or with the process.
    this.closeListener();
  }

  drainHttp(timeoutMs: number): Promise<void> {
    return this.inFlight.drain(timeoutMs);
  }
}
