/**
 * The dashboard's HTTP endpoints, below its path:
 *
 *   GET  /                                     the page (login form until signed in)
 *   GET  /assets/{file}                        its CSS, script and icon
 *   POST /api/login, /api/logout               session cookie (JSON bodies only)
 *   GET  /api/session                          the apps the session may see
 *   GET  /api/apps/{app}/stats                 connections (cluster-wide) and the last hour of samples
 *   GET  /api/apps/{app}/channels              occupied channels with their counts (cluster-wide)
 *   GET  /api/apps/{app}/channels/{ch}/members a presence channel's members (cluster-wide)
 *   GET  /api/apps/{app}/errors                recent errors
 *   GET  /api/apps/{app}/events                the debug console (Server-Sent Events; ?types=a,b&channel=text)
 *   POST /api/apps/{app}/publish               a test event, as the HTTP API publishes it
 *
 * Everything but the page and its files needs the session cookie (401), for
 * the app of the session (403). Bad input is a 4xx with the reason.
 */
import { ClusterUnavailable } from '../protocol/cluster.js';
import { ApplicationsUnavailable } from '../protocol/apps.js';
import type { PusherServer } from '../protocol/server.js';
import type { AppRuntime } from '../protocol/app.js';
import { channelKind } from '../protocol/channels/names.js';
import { clientAddress } from '../protocol/client-address.js';
import { BadRequest, errorResponse, json } from '../http/responses.js';
import { channelName, eventData, eventName, parseJsonObject } from '../http/validation.js';
import type { ApiRequest, ApiResponse } from '../http/types.js';
import { channelType } from '../metrics/metrics.js';
import { ALL_APPS, LoginThrottle, allows, checkLogin, clearedCookie, issueSession, readCookie, sessionCookie, verifySession, type Credentials, type Scope } from './auth.js';
import type { Asset } from './assets.js';
import { DEBUG_EVENT_TYPES, type DebugEventType } from './feed.js';
import { NO_APP, type RecentErrors } from './errors.js';
import { SAMPLE_SECONDS, type Sample } from './history.js';
import type { DebugStreams } from './stream.js';

export interface RoutesOptions {
  readonly server: PusherServer;
  /** The dashboard's full path (server path included), for the cookie. */
  readonly base: string;
  readonly token: string | null;
  /** Proxies whose `X-Forwarded-For` names the client, for the failed-login limit (`trusted_proxies`). */
  readonly trustedProxies: readonly string[];
  /** Whether the session cookie is sent only over HTTPS (the server has TLS). */
  readonly secureCookie: boolean;
  /** Whether the counts come from the whole cluster. */
  readonly clustered: boolean;
  readonly page: Asset;
  readonly files: ReadonlyMap<string, Asset>;
  /** An app's samples for the charts: this server's, with the other servers' added when a console watches. */
  readonly samples: (appId: string) => Sample[];
  readonly errors: RecentErrors;
  readonly streams: DebugStreams;
}

/** Debug consoles one server keeps open at once (each holds a connection). */
const MAX_CONSOLES = 100;

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function withHeaders(response: ApiResponse, headers: Record<string, string> = {}): ApiResponse {
  return { ...response, headers: { ...SECURITY_HEADERS, ...response.headers, ...headers } };
}

function asset(file: Asset, request: ApiRequest, policy?: string): ApiResponse {
  const headers: Record<string, string> = { 'Content-Type': file.type, ETag: file.etag, 'Cache-Control': 'no-cache' };
  if (policy) headers['Content-Security-Policy'] = policy;
  if (request.headers['if-none-match'] === file.etag) return { status: 304, body: '', headers };
  return { status: 200, body: file.body, headers };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest('Malformed percent-encoding in the path.');
  }
}

/** JSON bodies only: a cross-site form cannot send one without the browser asking first (CORS). */
function jsonBody(request: ApiRequest): Record<string, unknown> {
  const type = String(request.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new BadRequest('Expected a JSON body (Content-Type: application/json).', 415);
  return parseJsonObject(request.body);
}

function queryParams(query: string): URLSearchParams {
  return new URLSearchParams(query);
}

function parseTypes(value: string | null): Set<DebugEventType> {
  const types = new Set<DebugEventType>();
  for (const name of (value ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
    if (!(DEBUG_EVENT_TYPES as readonly string[]).includes(name)) {
      throw new BadRequest(`Unknown event type ${JSON.stringify(name.slice(0, 40))}: expected some of ${DEBUG_EVENT_TYPES.join(', ')}.`);
    }
    types.add(name as DebugEventType);
  }
  return types;
}

function clusterAnswer(error: unknown): ApiResponse {
  if (error instanceof ClusterUnavailable) return errorResponse(503, `The cluster state is unavailable: ${error.message}.`, { 'Retry-After': '1' });
  throw error;
}

export function dashboardRoutes(options: RoutesOptions): (request: ApiRequest, path: string) => Promise<ApiResponse> {
  const { server } = options;
  const throttle = new LoginThrottle();
  const credentials: Credentials = {
    secretOf: async (appId) => (await server.findApp(appId))?.config.secret,
    token: options.token,
  };

  const session = (request: ApiRequest): Promise<Scope | undefined> => verifySession(readCookie(request.headers.cookie), credentials);

  async function login(request: ApiRequest): Promise<ApiResponse> {
    const forwarded = request.headers['x-forwarded-for'];
    const address = clientAddress(
      { appKey: '', origin: undefined, remoteAddress: request.remoteAddress ?? '', forwardedFor: Array.isArray(forwarded) ? forwarded.join(', ') : forwarded },
      options.trustedProxies,
    );
    const wait = throttle.retryAfter(address);
    if (wait > 0) return errorResponse(429, 'Too many failed logins: try again later.', { 'Retry-After': String(wait) });
    const granted = await checkLogin(jsonBody(request), credentials);
    if (!granted) {
      throttle.failed(address);
      return errorResponse(401, 'Wrong app id and secret, or wrong token.');
    }
    const cookie = sessionCookie(issueSession(granted.scope, granted.key), options.base, options.secureCookie);
    return { ...json({ apps: await visibleApps(granted.scope) }), headers: { 'Set-Cookie': cookie } };
  }

  /** The session's app, or every app the provider knows (a database provider's too, not only those loaded here). */
  async function visibleApps(scope: Scope): Promise<{ id: string; enabled: boolean }[]> {
    const configs = scope === ALL_APPS ? await server.apps.all() : [(await server.findApp(scope))?.config].filter((config) => config !== undefined);
    return configs.map((config) => ({ id: config.id, enabled: config.enabled }));
  }

  async function stats(app: AppRuntime): Promise<ApiResponse> {
    let connections: number;
    try {
      connections = await server.cluster.connectionCount(app.id);
    } catch (error) {
      return clusterAnswer(error);
    }
    return json({
      connections,
      local_connections: app.connections.size,
      clustered: options.clustered,
      interval: SAMPLE_SECONDS,
      samples: options.samples(app.id),
      consoles: options.streams.count,
    });
  }

  async function channels(app: AppRuntime): Promise<ApiResponse> {
    try {
      const occupied = await server.cluster.occupiedChannels(app.id);
      const list = [...occupied].map(([name, counts]) => ({
        name,
        type: channelType(name),
        subscription_count: counts.subscriptionCount,
        ...(channelKind(name).isPresence ? { user_count: counts.userCount } : {}),
      }));
      list.sort((a, b) => b.subscription_count - a.subscription_count || a.name.localeCompare(b.name));
      return json({ channels: list });
    } catch (error) {
      return clusterAnswer(error);
    }
  }

  async function members(app: AppRuntime, rawChannel: string): Promise<ApiResponse> {
    const name = channelName(decodeSegment(rawChannel), '', app.config);
    if (!channelKind(name).isPresence) throw new BadRequest('Members can only be listed for presence channels.');
    try {
      const list = await server.cluster.presenceMembers(app.id, name);
      const body = list.map((member) => `{"id":${member.userIdJson},"info":${JSON.stringify(member.userInfo ?? null)}}`).join(',');
      return { status: 200, body: `{"channel":${JSON.stringify(name)},"members":[${body}]}` };
    } catch (error) {
      return clusterAnswer(error);
    }
  }

  function publish(app: AppRuntime, request: ApiRequest): ApiResponse {
    if (!app.config.enabled) return errorResponse(403, 'Application is disabled.');
    const body = jsonBody(request);
    const channel = channelName(body.channel, '', app.config);
    const name = eventName(body.event, '', app.config);
    const data = eventData(typeof body.data === 'string' ? body.data : JSON.stringify(body.data ?? {}), '', app.config);
    server.publishEvent(app, channel, name, data);
    return json({ published: { channel, event: name } });
  }

  async function appRoute(request: ApiRequest, method: string, scope: Scope, segments: string[]): Promise<ApiResponse> {
    const appId = decodeSegment(segments[0]!);
    if (!allows(scope, appId)) return errorResponse(403, 'This session is for another app.');
    const app = await server.findApp(appId);
    if (!app) return errorResponse(404, `No matching application for ID [${appId.slice(0, 100)}].`);
    const rest = segments.slice(1);
    const route = rest.length === 3 && rest[0] === 'channels' && rest[2] === 'members' ? 'members' : rest.join('/');
    const expected = route === 'publish' ? 'POST' : 'GET';
    const known = ['stats', 'channels', 'members', 'errors', 'events', 'publish'].includes(route);
    if (!known) return errorResponse(404, 'Not found.');
    if (method !== expected) return errorResponse(405, 'Method not allowed.', { Allow: expected });
    switch (route) {
      case 'stats':
        return stats(app);
      case 'channels':
        return channels(app);
      case 'members':
        return members(app, rest[1]!);
      case 'errors':
        return json({ errors: options.errors.of(app.id), ...(scope === ALL_APPS ? { unknown_apps: options.errors.of(NO_APP) } : {}) });
      case 'events': {
        if (options.streams.count >= MAX_CONSOLES) return errorResponse(429, `Too many open consoles (${MAX_CONSOLES}) on this server.`, { 'Retry-After': '10' });
        const params = queryParams(request.query);
        const filter = { types: parseTypes(params.get('types')), channel: (params.get('channel') ?? '').slice(0, 200) };
        const stream = options.streams.stream(app.id, filter);
        return { status: 200, body: '', stream, headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' } };
      }
      default:
        return publish(app, request);
    }
  }

  async function route(request: ApiRequest, path: string): Promise<ApiResponse> {
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (path === '/' || path === '') {
      return method === 'GET' ? asset(options.page, request, PAGE_POLICY) : errorResponse(405, 'Method not allowed.', { Allow: 'GET, HEAD' });
    }
    if (path.startsWith('/assets/')) {
      const file = options.files.get(path.slice('/assets/'.length));
      if (!file) return errorResponse(404, 'Not found.');
      return method === 'GET' ? asset(file, request) : errorResponse(405, 'Method not allowed.', { Allow: 'GET, HEAD' });
    }
    if (path === '/api/login' || path === '/api/logout') {
      if (method !== 'POST') return errorResponse(405, 'Method not allowed.', { Allow: 'POST' });
      if (path === '/api/login') return login(request);
      return { ...json({}), headers: { 'Set-Cookie': clearedCookie(options.base, options.secureCookie) } };
    }
    if (!path.startsWith('/api/')) return errorResponse(404, 'Not found.');
    const scope = await session(request);
    if (scope === undefined) return errorResponse(401, 'Not signed in (or the session expired).');
    if (path === '/api/session') {
      return method === 'GET' ? json({ scope: scope === ALL_APPS ? 'all' : 'app', apps: await visibleApps(scope) }) : errorResponse(405, 'Method not allowed.', { Allow: 'GET' });
    }
    const segments = path.slice(1).split('/');
    if (segments[1] !== 'apps' || segments.length < 4 || segments.some((segment) => segment === '')) return errorResponse(404, 'Not found.');
    return appRoute(request, method, scope, segments.slice(2));
  }

  return async (request, path) => {
    try {
      return withHeaders(await route(request, path));
    } catch (error) {
      if (error instanceof BadRequest) return withHeaders(errorResponse(error.status, error.message, error.headers));
      if (error instanceof ApplicationsUnavailable) {
        return withHeaders(errorResponse(503, `The application cannot be looked up: ${error.message}.`, { 'Retry-After': '1' }));
      }
      throw error;
    }
  };
}
