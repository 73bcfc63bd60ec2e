/**
 * A transport: a WebSocket library and HTTP listener serving the protocol's
 * sockets (src/protocol/socket.ts) and the HTTP API. The protocol decides;
 * the transport executes.
 */
import type { HttpHandler } from '../http/types.js';
import type { PreparedFrame, SocketHandler, TransportSocket, UpgradeRequest } from '../protocol/socket.js';

/** How long a closing peer gets to read what is queued and answer the close frame. */
export const CLOSE_GRACE_MS = 2000;

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
