/**
 * Reverb's `allowed_origins`: `*` allows everything; otherwise the Origin's
 * host (scheme and port ignored) must match one pattern, where `*` is a
 * wildcard (Laravel `Str::is`, case-sensitive).
 */

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function originHost(origin: string | undefined): string {
  if (!origin) return '';
  try {
    return new URL(origin).hostname;
  } catch {
    return '';
  }
}

export function isOriginAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  if (allowed.includes('*')) return true;
  const host = originHost(origin);
  return allowed.some((pattern) => globToRegExp(pattern).test(host));
}
