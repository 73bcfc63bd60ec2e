/**
 * The part of the uWebSockets.js API this project uses, typed here so that
 * the build does not depend on the optional package being installed.
 * Shapes follow uWebSockets.js v20 (docs/index.d.ts of the package).
 */

export type UwsBytes = string | ArrayBuffer | Uint8Array;

export interface UwsWebSocket<UserData> {
  /** 1 = written, 0 = written but now buffered (backpressure), 2 = dropped. */
  send(message: UwsBytes, isBinary?: boolean, compress?: boolean): number;
  getBufferedAmount(): number;
  /** Sends a close frame; calls the close handler before returning. */
  end(code?: number, shortMessage?: UwsBytes): void;
  ping(message?: UwsBytes): number;
  cork(callback: () => void): UwsWebSocket<UserData>;
  getUserData(): UserData;
}

export interface UwsHttpResponse {
  writeStatus(status: string): UwsHttpResponse;
  writeHeader(key: string, value: string): UwsHttpResponse;
  end(body?: UwsBytes, closeConnection?: boolean): UwsHttpResponse;
  /** Writes a chunk (chunked encoding); false when it had to be buffered (backpressure). */
  write(chunk: UwsBytes): boolean;
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): UwsHttpResponse;
  onAborted(handler: () => void): UwsHttpResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsHttpResponse;
  cork(callback: () => void): UwsHttpResponse;
  /** 4 (IPv4) or 16 (IPv6) raw bytes. */
  getRemoteAddress(): ArrayBuffer;
  upgrade<UserData>(userData: UserData, key: string, protocol: string, extensions: string, context: unknown): void;
}

/** Valid only during the synchronous part of the route handler. */
export interface UwsHttpRequest {
  getHeader(lowerCaseKey: string): string;
  getUrl(): string;
  getMethod(): string;
  /** The raw query string; undefined (not '') when the URL has none. */
  getQuery(): string | undefined;
  forEach(callback: (key: string, value: string) => void): void;
}

export interface UwsBehavior<UserData> {
  maxPayloadLength: number;
  idleTimeout: number;
  maxBackpressure: number;
  closeOnBackpressureLimit: boolean;
  sendPingsAutomatically: boolean;
  compression: number;
  upgrade(res: UwsHttpResponse, req: UwsHttpRequest, context: unknown): void;
  open(ws: UwsWebSocket<UserData>): void;
  message(ws: UwsWebSocket<UserData>, message: ArrayBuffer, isBinary: boolean): void;
  ping(ws: UwsWebSocket<UserData>): void;
  pong(ws: UwsWebSocket<UserData>): void;
  close(ws: UwsWebSocket<UserData>, code: number, message: ArrayBuffer): void;
}

export type UwsListenSocket = object;

export interface UwsApp {
  ws<UserData>(pattern: string, behavior: UwsBehavior<UserData>): UwsApp;
  any(pattern: string, handler: (res: UwsHttpResponse, req: UwsHttpRequest) => void): UwsApp;
  listen(host: string, port: number, options: number, callback: (listenSocket: UwsListenSocket | false) => void): UwsApp;
}

export interface UwsAppOptions {
  cert_file_name?: string;
  key_file_name?: string;
  passphrase?: string;
}

export interface UwsModule {
  App(options?: UwsAppOptions): UwsApp;
  SSLApp(options: UwsAppOptions): UwsApp;
  us_listen_socket_close(listenSocket: UwsListenSocket): void;
  /** Listen option: no SO_REUSEPORT, so a second server on the same port fails like Node's EADDRINUSE. */
  readonly LIBUS_LISTEN_EXCLUSIVE_PORT: number;
  us_socket_local_port(listenSocket: UwsListenSocket): number;
  readonly DISABLED: number;
}
