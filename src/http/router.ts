/**
 * The Pusher HTTP API router: strips the server path prefix, matches one
 * handler per endpoint, resolves the app (404), checks the signature (401),
 * and turns client mistakes into 4xx JSON answers — never a 500. When the
 * cluster state cannot be read in time (Redis down or stalled) it answers 503.
 */
import { ApplicationsUnavailable } from '../protocol/apps.js';
import { ClusterUnavailable } from '../protocol/cluster.js';
import type { PusherServer } from '../protocol/server.js';
import type { ApiContext } from './context.js';
import { channelUsers, connectionCount, listChannels, showChannel, terminateUserConnections } from './channels.js';
import { triggerBatch, triggerEvent } from './events.js';
import type { LimitName } from '../protocol/observer.js';
import { BadRequest, LimitExceeded, errorResponse, json } from './responses.js';
import { parseQuery, signatureProblem } from './signing.js';
import { RateLimiter } from './rate-limiter.js';
import { safeEqual } from '../protocol/signatures.js';
import type { ApiRequest, ApiResponse, HttpHandler } from './types.js';

type Handler = (context: ApiContext) => Promise<ApiResponse>;

interface Route {
  /** `POST /apps/{app}/events`: the endpoint as metrics name it. */
  readonly label: string;
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
  return { label: `${method} ${path}`, method, pattern: new RegExp(`^${source}$`), names, handler };
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

/** One answered API request, for metrics. */
export interface ApiCall {
  /** The app the request was for, once its signature was checked. */
  readonly appId: string | undefined;
  /** The app's limit that refused the request, if one did. */
  readonly limit: LimitName | undefined;
  /** The route (`POST /apps/{app}/events`), `GET /up`, `GET /metrics` or `other`. */
  readonly endpoint: string;
  readonly status: number;
  readonly seconds: number;
  readonly receivedBytes: number;
  readonly sentBytes: number;
}

/** `GET /metrics` on this listener, optionally behind a bearer token. */
export interface MetricsEndpoint {
  readonly token: string | null;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface RouterOptions {
  readonly server: PusherServer;
  readonly prefix: string;
  readonly authTimestampTolerance: number;
  readonly observe?: (call: ApiCall) => void;
  readonly metrics?: MetricsEndpoint;
  /** The built-in dashboard (src/dashboard): every request below `path` goes to it, with the rest of the path. */
  readonly dashboard?: { readonly path: string; handle(request: ApiRequest, path: string): Promise<ApiResponse> };
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


/** What metrics learn while a request is routed. */
interface CallInfo {
  endpoint: string;
  appId: string | undefined;
  limit: LimitName | undefined;
}

/** The metrics text, or 401 without the configured bearer token (compared in constant time). */
export async function metricsResponse(metrics: MetricsEndpoint, authorization: string | string[] | undefined): Promise<ApiResponse> {
  if (metrics.token !== null && !safeEqual(String(authorization ?? ''), `Bearer ${metrics.token}`)) {
    return errorResponse(401, 'The metrics need an Authorization: Bearer token.', { 'WWW-Authenticate': 'Bearer' });
  }
  const { contentType, body } = await metrics.render();
  return { status: 200, body, headers: { 'Content-Type': contentType } };
}

export function createApiRouter(options: RouterOptions): HttpHandler {
  const route = routeRequest(options);
  const observe = options.observe;
  if (!observe) return (request) => route(request, { endpoint: 'other', appId: undefined, limit: undefined });
  return async (request: ApiRequest): Promise<ApiResponse> => {
    const started = performance.now();
    const call: CallInfo = { endpoint: 'other', appId: undefined, limit: undefined };
    const response = await route(request, call);
    observe({
      ...call,
      status: response.status,
      seconds: (performance.now() - started) / 1000,
      receivedBytes: request.body.length,
      sentBytes: Buffer.byteLength(response.body),
    });
    return response;
  };
}

function routeRequest(options: RouterOptions): (request: ApiRequest, call: CallInfo) => Promise<ApiResponse> {
  const { server, prefix } = options;
  const backendEvents = new RateLimiter('max_backend_events_per_second', (app) => app.config.maxBackendEventsPerSecond);
  const readRequests = new RateLimiter('max_read_requests_per_second', (app) => app.config.maxReadRequestsPerSecond);

  return async (request: ApiRequest, call: CallInfo): Promise<ApiResponse> => {
    if (prefix !== '' && !(request.path === prefix || request.path.startsWith(`${prefix}/`))) {
      return errorResponse(404, 'Not found.');
    }
    const path = request.path.slice(prefix.length) || '/';
    const method = request.method === 'HEAD' ? 'GET' : request.method;

    if (path === '/up') {
      call.endpoint = 'GET /up';
      return method === 'GET' ? json({ health: 'OK' }) : errorResponse(405, 'Method not allowed.', { Allow: 'GET, HEAD' });
    }
    if (path === '/metrics' && options.metrics) {
      call.endpoint = 'GET /metrics';
      if (method !== 'GET') return errorResponse(405, 'Method not allowed.', { Allow: 'GET, HEAD' });
      return metricsResponse(options.metrics, request.headers.authorization);
    }

    const dashboard = options.dashboard;
    if (dashboard && (path === dashboard.path || path.startsWith(`${dashboard.path}/`))) {
      call.endpoint = 'dashboard';
      return dashboard.handle(request, path.slice(dashboard.path.length));
    }

    const found = findRoute(path, method);
    if (!('route' in found)) {
      return found.allowed.size === 0
        ? errorResponse(404, 'Not found.')
        : errorResponse(405, 'Method not allowed.', { Allow: [...found.allowed].join(', ') });
    }

    call.endpoint = found.route.label;
    try {
      const values = found.match.slice(1).map(decode);
      const routeParams: Record<string, string> = {};
      found.route.names.forEach((name, index) => (routeParams[name] = values[index]!));
      const app = await server.findApp(routeParams.app!);
      if (!app) return errorResponse(404, `No matching application for ID [${routeParams.app}].`);
      const params = parseQuery(request.query);
      const problem = signatureProblem(
        { method: request.method, path, prefixedPath: prefix === '' ? undefined : request.path, params, body: request.body },
        app.config,
        options.authTimestampTolerance,
        Date.now() / 1000,
      );
      if (problem) return errorResponse(401, problem);
      if (!app.config.enabled) return errorResponse(403, 'Application is disabled.');
      call.appId = app.id;
      // Every GET reads cluster state: one point each (soketi).
      if (found.route.method === 'GET') await readRequests.spend(app, 1);
      const spendEventPoints = (points: number): Promise<void> => backendEvents.spend(app, points);
      return await found.route.handler({ server, app, params, body: request.body, route: routeParams, spendEventPoints });
    } catch (error) {
      if (error instanceof LimitExceeded) call.limit = error.limit;
      if (error instanceof BadRequest) return errorResponse(error.status, error.message, error.headers);
      if (error instanceof ApplicationsUnavailable) {
        return errorResponse(503, `The application cannot be looked up: ${error.message}.`, { 'Retry-After': '1' });
      }
      if (error instanceof ClusterUnavailable) {
        return errorResponse(503, `The cluster state is unavailable: ${error.message}.`, { 'Retry-After': '1' });
      }
      throw error;
    }
  };
}
