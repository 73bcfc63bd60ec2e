/** Transport-neutral HTTP request/response for the Pusher HTTP API. */

export interface ApiRequest {
  readonly method: string;
  /** Path without the query string, still percent-encoded, server prefix included. */
  readonly path: string;
  /** Raw query string without the leading `?`. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type HttpHandler = (request: ApiRequest) => Promise<ApiResponse> | ApiResponse;
