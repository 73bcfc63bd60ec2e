/**
 * The checks on request bodies against the app's limits (Pusher's values by
 * default); failures are 400s (413 for a payload) that say what is wrong and
 * name the setting.
 */
import type { AppConfig } from '../config/types.js';
import { channelNameProblem } from '../protocol/channels/names.js';
import { BadRequest, LimitExceeded } from './responses.js';

/** Fatal decoder: Buffer#toString would silently turn bad bytes into U+FFFD and publish them. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new BadRequest('Request body must be valid UTF-8.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest('Request body must be valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BadRequest('Request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

export function eventName(value: unknown, where: string, config: AppConfig): string {
  if (typeof value !== 'string' || value === '') throw new BadRequest(`${where}name must be a non-empty string.`);
  if (value.length > config.maxEventNameLength) {
    throw new LimitExceeded('max_event_name_length', `${where}name is longer than ${config.maxEventNameLength} characters (max_event_name_length).`);
  }
  if (value.startsWith('pusher:') || value.startsWith('pusher_internal:')) {
    throw new BadRequest(`${where}name may not use the reserved pusher: prefixes.`);
  }
  return value;
}

export function eventData(value: unknown, where: string, config: AppConfig): string {
  if (typeof value !== 'string') throw new BadRequest(`${where}data must be a string.`);
  const limit = config.maxEventPayloadSize;
  if (limit !== null && Buffer.byteLength(value) > limit) {
    throw new LimitExceeded('max_event_payload_size', `${where}data is larger than ${limit} bytes (max_event_payload_size).`, 413);
  }
  return value;
}

export function channelName(value: unknown, where: string, config: AppConfig): string {
  if (typeof value !== 'string') throw new BadRequest(`${where}channel must be a string.`);
  const problem = channelNameProblem(value, config.maxChannelNameLength);
  if (problem) throw new BadRequest(`${where}channel ${JSON.stringify(value)}: ${problem}.`);
  return value;
}

export function optionalString(value: unknown, field: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${where}${field} must be a string.`);
  return value;
}

/** The `channels` array or the single `channel` (pusher-http-php sends `channel` for one). */
export function targetChannels(body: Record<string, unknown>, config: AppConfig): string[] {
  if (body.channels !== undefined) {
    if (!Array.isArray(body.channels) || body.channels.length === 0) {
      throw new BadRequest('channels must be a non-empty array of channel names.');
    }
    if (body.channels.length > config.maxChannelsPerEvent) {
      throw new LimitExceeded('max_channels_per_event', `An event can be triggered on at most ${config.maxChannelsPerEvent} channels (max_channels_per_event).`);
    }
    const names = body.channels.map((channel, index) => channelName(channel, `channels[${index}]: `, config));
    // A channel listed twice must not get the event twice.
    return [...new Set(names)];
  }
  if (body.channel !== undefined) return [channelName(body.channel, '', config)];
  throw new BadRequest('channels (or channel) is required.');
}

/** `info` as a set of attribute names (`user_count,subscription_count`). */
export function infoAttributes(value: string | undefined): Set<string> {
  return new Set((value ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}
