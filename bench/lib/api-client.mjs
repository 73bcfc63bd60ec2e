/**
 * Signed calls to one server's Pusher HTTP API for the scenarios that check
 * what the server reports (counts, channels, presence users) or that keep
 * API traffic going while something fails. Every call has a deadline and
 * settles to { status, ms, body }: status is the HTTP status, or 'timeout' /
 * 'error' when no answer came, so that a fault shows up as a count, never
 * as a hung scenario. Calls may overlap: each takes an idle keep-alive
 * connection or opens one.
 */
import { HttpConnection } from './http-client.mjs';
import { signedQuery } from './pusher-sign.mjs';

export class ApiClient {
  constructor({ host, port, appId, key, secret }, { timeoutMs = 5000, localAddress } = {}) {
    this.server = { host, port, localAddress };
    this.credentials = { appId, key, secret };
    this.timeoutMs = timeoutMs;
    this.idle = [];
  }

  /**
   * `route`: the path below /apps/{id} ('/connections', '/channels/x/users'),
   * or an absolute path when `signed` is false ('/up').
   */
  async call(method, route, { query = {}, body, signed = true } = {}) {
    const { appId, key, secret } = this.credentials;
    const path = signed ? `/apps/${appId}${route}` : route;
    const text = body === undefined ? '' : JSON.stringify(body);
    const search = signed
      ? signedQuery({ method, path, body: text, key, secret, query })
      : new URLSearchParams(query).toString();
    const connection = this.idle.pop() ?? new HttpConnection(this.server);
    const started = performance.now();
    try {
      const response = await connection.request(method, search ? `${path}?${search}` : path, text, this.timeoutMs);
      this.idle.push(connection);
      return { status: response.status, ms: performance.now() - started, body: response.body };
    } catch (error) {
      connection.close();
      const timedOut = /no answer within/.test(error.message);
      return { status: timedOut ? 'timeout' : 'error', ms: performance.now() - started, body: error.message };
    }
  }

  /** The parsed answer of a signed GET; throws on anything but 200, with what came instead. */
  async json(route, query) {
    const response = await this.call('GET', route, { query });
    if (response.status !== 200) throw new Error(`GET ${route}: ${response.status} ${String(response.body).slice(0, 200)}`);
    return JSON.parse(response.body);
  }

  close() {
    for (const connection of this.idle.splice(0)) connection.close();
  }
}
