/** Hand-made Pusher signatures for tests (independent of the server's code). */
import { createHash, createHmac } from 'node:crypto';

export function hmac(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}

export function md5(value: string): string {
  return createHash('md5').update(value).digest('hex');
}

export interface SignOptions {
  method: string;
  /** Path that is signed (without any server prefix). */
  path: string;
  key: string;
  secret: string;
  body?: string;
  /** Extra query parameters (decoded values). */
  params?: Record<string, string>;
  timestamp?: number;
  /** Override the body_md5 that is sent and signed. */
  bodyMd5?: string;
}

/** Returns the query string (with auth_signature) exactly as pusher-http-node builds it. */
export function signedQuery(options: SignOptions): Record<string, string> {
  const params: Record<string, string> = {
    auth_key: options.key,
    auth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: '1.0',
    ...options.params,
  };
  if (options.bodyMd5 !== undefined) params.body_md5 = options.bodyMd5;
  else if (options.body) params.body_md5 = md5(options.body);
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}=${params[name]}`)
    .join('&');
  params.auth_signature = hmac(options.secret, `${options.method}\n${options.path}\n${sorted}`);
  return params;
}

/** Sends a signed API request; `urlPath` defaults to the signed path. */
export async function signedRequest(
  baseUrl: string,
  options: SignOptions & { urlPath?: string; encode?: (value: string) => string; headers?: Record<string, string> },
): Promise<{ status: number; body: string; headers: Headers }> {
  const params = signedQuery(options);
  const encode = options.encode ?? encodeURIComponent;
  const query = Object.entries(params)
    .map(([name, value]) => `${name}=${encode(value)}`)
    .join('&');
  const response = await fetch(`${baseUrl}${options.urlPath ?? options.path}?${query}`, {
    method: options.method,
    body: options.body,
    headers: { 'Content-Type': 'application/json', ...options.headers },
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}
