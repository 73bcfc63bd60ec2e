/** Route matching shared by transports: `{path}/app/{key}` for WebSockets. */

/** The app key of a WebSocket URL under the server path prefix, or undefined. */
export function matchSocketPath(url: string, prefix: string): string | undefined {
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const base = `${prefix}/app/`;
  if (!path.startsWith(base)) return undefined;
  const key = path.slice(base.length);
  if (key === '' || key.includes('/')) return undefined;
  try {
    return decodeURIComponent(key);
  } catch {
    return undefined;
  }
}
