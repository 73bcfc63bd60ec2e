/**
 * The small interface between the Pusher protocol and a WebSocket library.
 * The protocol decides; the transport executes. Protocol code imports only
 * these types, never `ws` or uWebSockets.js.
 */
import type { HttpHandler } from '../http/types.js';

/** How long a closing peer gets to read what is queued and answer the close frame. */
export const CLOSE_GRACE_MS = 2000;

/** A frame encoded once for a broadcast and written as-is to every recipient. */
export interface PreparedFrame {
  /** The payload text (for transports that frame per send, and for debug logs). */
  readonly text: string;
}

/** One client socket as the protocol sees it. */
export interface TransportSocket {
  readonly remoteAddress: string;
  /** Sends one text frame. */
  send(text: string): void;
  /** Sends a frame prepared by `Transport.prepare` (the broadcast fast path). */
  sendPrepared(frame: PreparedFrame): void;
  /** Sends a WebSocket ping control frame. */
  ping(): void;
  /**
   * Closes with a close frame; the handler's `disconnected` callback follows.
   * A peer that has not completed the close after CLOSE_GRACE_MS (it does not
   * read, or is gone) is cut off, so its buffers are released.
   */
  close(code: number, reason?: string): void;
  /** Bytes accepted for sending but not yet handed to the kernel. */
  readonly bufferedAmount: number;
}

/** What the transport learned from the upgrade request. */
export interface UpgradeRequest {
  /** The `{key}` of `{path}/app/{key}`. */
  readonly appKey: string;
  readonly origin: string | undefined;
  readonly remoteAddress: string;
  /** The `X-Forwarded-For` header, trusted only when the peer is a configured proxy. */
  readonly forwardedFor: string | undefined;
}

/** Per-connection callbacks the protocol registers when a socket opens. */
export interface SocketHandler {
  message(data: string): void;
  /** Any control frame (ping/pong) arrived; counts as activity. `isPing` for client pings. */
  control(isPing: boolean): void;
  disconnected(code: number): void;
}

export interface TransportCallbacks {
  /** A WebSocket opened on `{path}/app/{key}`; returns the callbacks for its frames. */
  open(socket: TransportSocket, request: UpgradeRequest): SocketHandler;
  /** Every other HTTP request on the listener. */
  http: HttpHandler;
}

/** Where a transport reports conditions an operator must know about (pino's Logger fits). */
export interface TransportLogger {
  warn(message: string): void;
  info(message: string): void;
}

export interface TransportOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Largest inbound message any app allows; bigger frames close with 1009. */
  readonly maxPayload: number;
  readonly maxRequestSize: number;
  readonly tls: { cert: string; key: string; ca?: string; passphrase?: string } | null;
  /** Milliseconds an HTTP request may take to send its headers (default 10 s). */
  readonly headersTimeout?: number;
  /** Milliseconds an HTTP request may take to arrive completely (default 15 s). */
  readonly requestTimeout?: number;
  /** Warnings such as running out of file descriptors; none when omitted. */
  readonly logger?: TransportLogger;
}

export interface Transport {
  readonly name: string;
  prepare(text: string): PreparedFrame;
  listen(options: TransportOptions, callbacks: TransportCallbacks): Promise<{ port: number }>;
  /** Stops accepting new connections (existing ones stay until closed). */
  stopAccepting(): Promise<void>;
  /** Resolves when in-flight HTTP requests are done, or after `timeoutMs`. */
  drainHttp(timeoutMs: number): Promise<void>;
}
