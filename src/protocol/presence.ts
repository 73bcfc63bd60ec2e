/** Presence `channel_data` parsing and the payloads built from members. */
import type { PresenceMember } from './cluster.js';
import { encodeFrame } from './wire.js';

/**
 * Reads a presence member from the signed channel_data string. `user_id` may
 * be a string or a number (compared as a string, echoed as sent); `user_info`
 * may be any JSON value or absent. Returns undefined when there is no usable user_id.
 */
export function parseMember(channelData: string): PresenceMember | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(channelData);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const data = parsed as Record<string, unknown>;
  return memberFrom(data.user_id, data.user_info, JSON.stringify(data));
}

export function memberFrom(userId: unknown, userInfo: unknown, channelDataJson?: string): PresenceMember | undefined {
  if (typeof userId !== 'string' && !(typeof userId === 'number' && Number.isFinite(userId))) return undefined;
  const id = String(userId);
  if (id === '') return undefined;
  const json =
    channelDataJson ?? JSON.stringify(userInfo === undefined ? { user_id: userId } : { user_id: userId, user_info: userInfo });
  return { userId: id, userIdJson: JSON.stringify(userId), userInfo, channelDataJson: json };
}

/** `{"presence":{"count":N,"ids":[...],"hash":{...}}}` (Reverb's key order), unique by user. */
export function presenceData(members: readonly PresenceMember[]): string {
  const ids: string[] = [];
  const hash: string[] = [];
  for (const member of members) {
    ids.push(member.userIdJson);
    hash.push(`${JSON.stringify(member.userId)}:${member.userInfo === undefined ? 'null' : JSON.stringify(member.userInfo)}`);
  }
  return `{"presence":{"count":${members.length},"ids":[${ids.join(',')}],"hash":{${hash.join(',')}}}}`;
}

export function memberAddedFrame(channel: string, member: PresenceMember): string {
  return encodeFrame('pusher_internal:member_added', member.channelDataJson, channel);
}

export function memberRemovedFrame(channel: string, member: PresenceMember): string {
  return encodeFrame('pusher_internal:member_removed', `{"user_id":${member.userIdJson}}`, channel);
}
