/** Transport-neutral HTTP request/response for the Pusher HTTP API. */

export interface ApiRequest {
  readonly method: string;
  /** Path without the query string, still percent-encoded, server prefix included. */
  readonly path: string;
  /** Raw query string without the leading `?`. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The peer's address as the transport saw it (no proxy headers); absent where unknown. */
  readonly remoteAddress?: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A response that stays open (Server-Sent Events): the transport writes
   * the status and headers without a length, then hands over a sink; `body`
   * is ignored. Not counted as in flight once open.
   */
  readonly stream?: ResponseStream;
}

export interface ResponseStream {
  open(sink: StreamSink): void;
}

/** The open end of a streamed response. */
export interface StreamSink {
  /** Queues a chunk; false when the peer is gone or too far behind (then the stream is ended). */
  write(chunk: string): boolean;
  /** Ends the response. */
  end(): void;
  /** Runs once when the response ends, by either side. */
  onClose(handler: () => void): void;
}

export type HttpHandler = (request: ApiRequest) => Promise<ApiResponse> | ApiResponse;
