/**
 * Dashboard logins. A session is a cookie (EventSource cannot send headers)
 * holding `scope.expiry.signature`: the scope is `*` (the configured token:
 * every app) or an app id (that app's secret: that app only), signed with
 * HMAC-SHA256 keyed by that token or secret. So any server of a cluster
 * checks it without shared state, and changing the secret or token ends the
 * sessions made with it. Every comparison is constant-time; failed logins
 * are limited per client address.
 */
import { hmacHex, safeEqual } from '../protocol/signatures.js';

/** Who is signed in: every app (`*`) or one app id. */
export type Scope = string;

export const ALL_APPS: Scope = '*';
export const COOKIE_NAME = 'reverb_dashboard';
const SESSION_SECONDS = 12 * 60 * 60;

export interface Credentials {
  /** The secret of an app by id; undefined for unknown apps. */
  secretOf(appId: string): Promise<string | undefined>;
  readonly token: string | null;
}

function encodeScope(scope: Scope): string {
  return Buffer.from(scope).toString('base64url');
}

function signature(key: string, body: string): string {
  return hmacHex(key, `reverb-ts dashboard session\n${body}`);
}

/** A signed session value for the scope, valid for 12 hours. */
export function issueSession(scope: Scope, key: string, now = Date.now()): string {
  const body = `${encodeScope(scope)}.${Math.floor(now / 1000) + SESSION_SECONDS}`;
  return `${body}.${signature(key, body)}`;
}

/** The scope of a valid, unexpired session value; undefined otherwise. */
export async function verifySession(value: string | undefined, credentials: Credentials, now = Date.now()): Promise<Scope | undefined> {
  if (!value) return undefined;
  const parts = value.split('.');
  if (parts.length !== 3) return undefined;
  const [encoded, expiry, signed] = parts as [string, string, string];
  if (!/^\d{1,12}$/.test(expiry) || Number(expiry) * 1000 < now) return undefined;
  const scope = Buffer.from(encoded, 'base64url').toString();
  const key = scope === ALL_APPS ? credentials.token : await credentials.secretOf(scope);
  if (!key) return undefined;
  return safeEqual(signed, signature(key, `${encoded}.${expiry}`)) ? scope : undefined;
}

/** The scope and signing key a login earns, or undefined for wrong credentials. */
export async function checkLogin(body: Record<string, unknown>, credentials: Credentials): Promise<{ scope: Scope; key: string } | undefined> {
  const { token } = credentials;
  if (typeof body.token === 'string') {
    // Compared even when no token is configured, so the answer takes the same time.
    const matches = safeEqual(body.token, token ?? '\0no token');
    return matches && token ? { scope: ALL_APPS, key: token } : undefined;
  }
  if (typeof body.app_id !== 'string' || typeof body.secret !== 'string') return undefined;
  const secret = await credentials.secretOf(body.app_id);
  const matches = safeEqual(body.secret, secret ?? '\0no such app');
  return matches && secret ? { scope: body.app_id, key: secret } : undefined;
}

export function allows(scope: Scope, appId: string): boolean {
  return scope === ALL_APPS || scope === appId;
}

/** The dashboard's cookie from a Cookie header. */
export function readCookie(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : header ?? '';
  for (const part of text.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === COOKIE_NAME) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, path: string, secure: boolean): string {
  return `${COOKIE_NAME}=${value}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${SESSION_SECONDS}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(path: string, secure: boolean): string {
  return `${COOKIE_NAME}=; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

const FAILURE_WINDOW_MS = 60_000;
const FAILURES_PER_ADDRESS = 10;
const FAILURES_IN_ALL = 100;
const MAX_TRACKED = 10_000;

/**
 * Failed logins per client address in one-minute windows: beyond 10 from one
 * address (or 100 from everyone, for attacks from many addresses) logins are
 * refused with 429 until the window ends.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { start: number; count: number }>();
  private all = { start: 0, count: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds to wait before trying again, or 0 when a login may be tried. */
  retryAfter(address: string): number {
    const now = this.now();
    const entry = this.failures.get(address);
    const windows = [entry && entry.count >= FAILURES_PER_ADDRESS ? entry.start : undefined, this.all.count >= FAILURES_IN_ALL ? this.all.start : undefined];
    let wait = 0;
    for (const start of windows) if (start !== undefined) wait = Math.max(wait, start + FAILURE_WINDOW_MS - now);
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.now();
    if (now - this.all.start >= FAILURE_WINDOW_MS) this.all = { start: now, count: 0 };
    this.all.count++;
    let entry = this.failures.get(address);
    if (!entry || now - entry.start >= FAILURE_WINDOW_MS) {
      if (this.failures.size >= MAX_TRACKED) this.prune(now);
      this.failures.set(address, (entry = { start: now, count: 0 }));
    }
    entry.count++;
  }

  private prune(now: number): void {
    for (const [address, entry] of this.failures) if (now - entry.start >= FAILURE_WINDOW_MS) this.failures.delete(address);
    // Still full: forget the oldest rather than grow.
    if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
  }
}
