/**
 * The Pusher wire format: encoding outbound frames (once, as ready strings) and
 * parsing inbound ones. Key order and the "data is a JSON string" rule follow
 * Laravel Reverb byte for byte (reference/protocol.md §7).
 */

/** One table for every error frame the server sends: code and Reverb's message. */
export const ERRORS = {
  appNotFound: { code: 4001, message: 'Application does not exist' },
  appDisabled: { code: 4003, message: 'Application is disabled' },
  overQuota: { code: 4004, message: 'Application is over connection quota' },
  originNotAllowed: { code: 4009, message: 'Origin not allowed' },
  unauthorized: { code: 4009, message: 'Connection is unauthorized' },
  notMember: { code: 4009, message: 'The client is not a member of the specified channel.' },
  terminated: { code: 4009, message: 'You got disconnected by the app.' },
  notAuthorizedInTime: { code: 4009, message: 'Connection not authorized within timeout' },
  slowConsumer: { code: 4100, message: 'Over capacity: the client is not reading fast enough' },
  messageFlood: { code: 4100, message: 'Over capacity: the client sends messages too fast' },
  appsUnavailable: { code: 4100, message: 'Over capacity: applications cannot be looked up, try again later' },
  tooManyConnections: { code: 4100, message: 'Over capacity: too many new connections from this address' },
  invalidMessage: { code: 4200, message: 'Invalid message format' },
  shuttingDown: { code: 4200, message: 'Server is shutting down, please reconnect' },
  pongTimeout: { code: 4201, message: 'Pong reply not received in time' },
  clientEventsDisabled: { code: 4301, message: 'The app does not have client messaging enabled.' },
  rateLimited: { code: 4301, message: 'Rate limit exceeded' },
} as const;

export interface PusherError {
  readonly code: number;
  readonly message: string;
}

/** `{"event":..,"data":"<json string>","channel":..}` with data omitted when undefined. */
export function encodeFrame(event: string, data?: string, channel?: string): string {
  let out = '{"event":' + JSON.stringify(event);
  if (data !== undefined) out += ',"data":' + JSON.stringify(data);
  if (channel !== undefined) out += ',"channel":' + JSON.stringify(channel);
  return out + '}';
}

export function errorFrame(error: PusherError): string {
  return encodeFrame('pusher:error', JSON.stringify({ code: error.code, message: error.message }));
}

export function connectionEstablishedFrame(socketId: string, activityTimeout: number): string {
  return encodeFrame(
    'pusher:connection_established',
    JSON.stringify({ socket_id: socketId, activity_timeout: activityTimeout }),
  );
}

export const PONG_FRAME = '{"event":"pusher:pong"}';
export const PING_FRAME = '{"event":"pusher:ping"}';

/**
 * A refused subscription in soketi's shape: pusher-js hands it to the
 * channel's `pusher:subscription_error` listeners (Echo's `.error()`).
 */
export function subscriptionErrorFrame(channel: string, type: string, error: string, status: number): string {
  return encodeFrame('pusher:subscription_error', JSON.stringify({ type, error, status }), channel);
}

export function cacheMissFrame(channel: string): string {
  return encodeFrame('pusher:cache_miss', undefined, channel);
}

/** A client event as relayed to other members: key order event, channel, data, user_id (Reverb). */
export function clientEventFrame(event: string, channel: string, data: unknown, userIdJson?: string): string {
  let out = '{"event":' + JSON.stringify(event) + ',"channel":' + JSON.stringify(channel);
  if (data !== undefined) out += ',"data":' + JSON.stringify(data);
  if (userIdJson !== undefined) out += ',"user_id":' + userIdJson;
  return out + '}';
}

/** An inbound frame after the envelope has been checked. */
export interface InboundMessage {
  readonly event: string;
  /** `data` with a JSON-string payload already decoded (clients send either form). */
  readonly data: unknown;
  readonly channel: unknown;
}

export class InvalidMessage extends Error {}

/**
 * Deepest JSON nesting accepted from a client. Real payloads are a few levels
 * deep; thousands of levels in a 10 KB frame cost milliseconds to parse and
 * overflow the stack when re-encoded, so they are refused before parsing.
 */
export const MAX_JSON_DEPTH = 64;

/** True when the JSON text nests objects/arrays deeper than `max` (one pass, strings skipped). */
export function nestedTooDeeply(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses one text frame. Throws InvalidMessage for anything that is not a JSON
 * object with a non-empty string `event`, or that nests deeper than MAX_JSON_DEPTH.
 */
export function parseInbound(text: string): InboundMessage {
  if (nestedTooDeeply(text)) throw new InvalidMessage('nested too deeply');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidMessage('invalid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidMessage('frame is not a JSON object');
  }
  const frame = parsed as Record<string, unknown>;
  if (typeof frame.event !== 'string' || frame.event === '') {
    throw new InvalidMessage('event must be a non-empty string');
  }
  return { event: frame.event, data: decodeData(frame.data), channel: frame.channel };
}

/** Clients may send `data` as an object or as a JSON-encoded string (pusher-websocket-java). */
function decodeData(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  const first = data.charCodeAt(0);
  // Only strings that look like JSON objects/arrays are decoded; plain strings stay strings.
  if (first !== 0x7b /* { */ && first !== 0x5b /* [ */) return data;
  if (nestedTooDeeply(data)) return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
