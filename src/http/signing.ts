/**
 * Pusher HTTP API request authentication (reference/protocol.md §3.1):
 * decoded query values, server path prefix stripped, body_md5 recomputed,
 * auth_key checked, auth_timestamp within the tolerance, constant-time compare.
 */
import type { AppConfig } from '../config/types.js';
import { apiStringToSign, hmacHex, md5Hex, safeEqual } from '../protocol/signatures.js';

export interface SignedRequest {
  readonly method: string;
  /** Path as sent, without the server prefix (starting at /apps/...). */
  readonly path: string;
  /**
   * Path as sent, server prefix included, when there is a prefix. pusher-http-php
   * signs without the prefix (Reverb #368), but clients of a Reverb started
   * with `--path` had to sign with it: both are accepted.
   */
  readonly prefixedPath?: string;
  readonly params: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** Returns why the request is not authentic, or undefined when it is. */
export function signatureProblem(
  request: SignedRequest,
  app: AppConfig,
  toleranceSeconds: number,
  nowSeconds: number,
): string | undefined {
  const { params } = request;
  if (params.get('auth_key') !== app.key) return 'Authentication signature invalid: unknown auth_key.';
  if (toleranceSeconds > 0) {
    const timestamp = Number(params.get('auth_timestamp'));
    if (!Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
      return `Authentication signature invalid: auth_timestamp is not within ${toleranceSeconds}s of the server time (${Math.floor(nowSeconds)}).`;
    }
  }
  const given = params.get('auth_signature') ?? '';
  const bodyMd5 = request.body.length > 0 ? md5Hex(request.body) : undefined;
  // The recomputed MD5 would make this a plain signature mismatch; say what is actually wrong.
  const sentMd5 = params.get('body_md5');
  if (bodyMd5 !== undefined && sentMd5 !== undefined && sentMd5.toLowerCase() !== bodyMd5) {
    return 'Authentication signature invalid: body_md5 does not match the request body.';
  }
  // Some clients sign the decoded path, others the encoded one: accept either form.
  const sent = request.prefixedPath === undefined ? [request.path] : [request.path, request.prefixedPath];
  const candidates = new Set(sent.flatMap((path) => [path, safeDecode(path)]));
  const ok = [...candidates].some((path) =>
    safeEqual(given, hmacHex(app.secret, apiStringToSign(request.method, path, params, bodyMd5))),
  );
  return ok ? undefined : 'Authentication signature invalid.';
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Query parameters with decoded values; a repeated key keeps its last value (PHP semantics). */
export function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(query)) params.set(name, value);
  return params;
}
