/**
 * What the protocol needs from a WebSocket library, owned by the protocol:
 * one client socket, and the callbacks it registers for it. Transports
 * (src/transport) implement these; protocol code never imports `ws` or
 * uWebSockets.js, nor the transports themselves.
 */

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
   * A peer that has not completed the close after a short grace period (it
   * does not read, or is gone) is cut off, so its buffers are released.
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
