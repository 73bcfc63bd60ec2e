/**
 * The address a connection comes from, for per-address limits: the peer
 * itself, or — when the peer is a proxy the operator trusts — the address
 * that proxy appended to `X-Forwarded-For` (Nginx's `$proxy_add_x_forwarded_for`).
 * Entries further left are written by the client and never trusted.
 */
import type { UpgradeRequest } from './socket.js';

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) compares as `127.0.0.1`. */
function plain(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function clientAddress(request: UpgradeRequest, trustedProxies: readonly string[]): string {
  const peer = plain(request.remoteAddress);
  if (request.forwardedFor === undefined || trustedProxies.length === 0) return peer;
  if (!trustedProxies.includes('*') && !trustedProxies.includes(peer)) return peer;
  const forwarded = request.forwardedFor.split(',');
  const last = forwarded[forwarded.length - 1]!.trim();
  return last === '' ? peer : plain(last);
}

/**
 * New connections per address in the current second (`max_connections_per_ip_per_second`).
 * One fixed window for all addresses: the map holds at most one second of addresses.
 */
export class ConnectionRateLimiter {
  private readonly counts = new Map<string, number>();
  private windowStart = 0;

  constructor(private readonly limit: number) {}

  /** Counts an attempt; false when the address is over its limit for this second. */
  allow(address: string, now: number): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.counts.clear();
    }
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    return count <= this.limit;
  }
}
