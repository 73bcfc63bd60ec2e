/**
 * The Pusher HTTP API router: strips the server path prefix, matches one
 * handler per endpoint, resolves the app (404), checks the signature (401),
 * and turns client mistakes into 4xx JSON answers — never a 500. When the
 * cluster state cannot be read in time (Redis down or stalled) it answers 503.
 */
import { ClusterUnavailable } from '../protocol/cluster.js';
import type { PusherServer } from '../protocol/server.js';
import type { ApiContext } from './context.js';
import { channelUsers, connectionCount, listChannels, showChannel, terminateUserConnections } from './channels.js';
import { triggerBatch, triggerEvent } from './events.js';
import { BadRequest, errorResponse, json } from './responses.js';
import { parseQuery, signatureProblem } from './signing.js';
import type { ApiRequest, ApiResponse, HttpHandler } from './types.js';

type Handler = (context: ApiContext) => Promise<ApiResponse>;

interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly handler: Handler;
}

const SEGMENT = '([^/]+)';

function route(method: Route['method'], path: string, handler: Handler): Route {
  const names: string[] = [];
  const source = path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    names.push(name);
    return SEGMENT;
  });
  return { method, pattern: new RegExp(`^${source}$`), names, handler };
}

const ROUTES: readonly Route[] = [
  route('POST', '/apps/{app}/events', triggerEvent),
  route('POST', '/apps/{app}/batch_events', triggerBatch),
  route('GET', '/apps/{app}/channels', listChannels),
  route('GET', '/apps/{app}/channels/{channel}', showChannel),
  route('GET', '/apps/{app}/channels/{channel}/users', channelUsers),
  route('GET', '/apps/{app}/connections', connectionCount),
  route('POST', '/apps/{app}/users/{user}/terminate_connections', terminateUserConnections),
];

export interface RouterOptions {
  readonly server: PusherServer;
  readonly prefix: string;
  readonly authTimestampTolerance: number;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest('Malformed percent-encoding in the path.');
  }
}

const NO_METHODS: ReadonlySet<string> = new Set();

/**
 * The route for a path and method: one pass over the routes in order,
 * stopping at the first match; otherwise the methods the path does accept
 * (none: 404, some: 405 with Allow).
 */
function findRoute(path: string, method: string): { route: Route; match: RegExpExecArray } | { allowed: ReadonlySet<string> } {
  let allowed: Set<string> | undefined;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    if (route.method === method) return { route, match };
    (allowed ??= new Set()).add(route.method);
  }
  return { allowed: allowed ?? NO_METHODS };
}


export function createApiRouter(options: RouterOptions): HttpHandler {
  const { server, prefix } = options;

  return async (request: ApiRequest): Promise<ApiResponse> => {
    if (prefix !== '' && !(request.path === prefix || request.path.startsWith(`${prefix}/`))) {
      return errorResponse(404, 'Not found.');
    }
    const path = request.path.slice(prefix.length) || '/';
    const method = request.method === 'HEAD' ? 'GET' : request.method;

    if (path === '/up') {
      return method === 'GET' ? json({ health: 'OK' }) : errorResponse(405, 'Method not allowed.', { Allow: 'GET, HEAD' });
    }

    const found = findRoute(path, method);
    if (!('route' in found)) {
      return found.allowed.size === 0
        ? errorResponse(404, 'Not found.')
        : errorResponse(405, 'Method not allowed.', { Allow: [...found.allowed].join(', ') });
    }

    try {
      const values = found.match.slice(1).map(decode);
      const routeParams: Record<string, string> = {};
      found.route.names.forEach((name, index) => (routeParams[name] = values[index]!));
      const app = server.appsById.get(routeParams.app!);
      if (!app) return errorResponse(404, `No matching application for ID [${routeParams.app}].`);
      const params = parseQuery(request.query);
      const problem = signatureProblem(
        { method: request.method, path, prefixedPath: prefix === '' ? undefined : request.path, params, body: request.body },
        app.config,
        options.authTimestampTolerance,
        Date.now() / 1000,
      );
      if (problem) return errorResponse(401, problem);
      return await found.route.handler({ server, app, params, body: request.body, route: routeParams });
    } catch (error) {
      if (error instanceof BadRequest) return errorResponse(error.status, error.message);
      if (error instanceof ClusterUnavailable) {
        return errorResponse(503, `The cluster state is unavailable: ${error.message}.`, { 'Retry-After': '1' });
      }
      throw error;
    }
  };
}
