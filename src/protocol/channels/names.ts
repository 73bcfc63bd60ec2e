/**
 * Channel kinds by name prefix and Pusher's channel-name rules.
 * Prefixes carry their dash (Pusher); Reverb's dash-less matching (`cachefoo`)
 * is a bug we do not copy.
 */

export interface ChannelKind {
  /** Subscribing needs a signed `auth` value. */
  readonly isPrivate: boolean;
  readonly isPresence: boolean;
  /** End-to-end encrypted: the server relays ciphertext and refuses client events. */
  readonly isEncrypted: boolean;
  /** Remembers the last event and replays it to new subscribers. */
  readonly isCache: boolean;
  /** `#server-to-user-<id>`: only the signed-in user may subscribe. */
  readonly isServerToUser: boolean;
}

export const SERVER_TO_USER_PREFIX = '#server-to-user-';

export function channelKind(name: string): ChannelKind {
  const isPresence = name.startsWith('presence-');
  const isEncrypted = name.startsWith('private-encrypted-');
  const isPrivate = isPresence || name.startsWith('private-');
  const isCache =
    name.startsWith('cache-') ||
    name.startsWith('private-cache-') ||
    name.startsWith('presence-cache-') ||
    name.startsWith('private-encrypted-cache-');
  return { isPrivate, isPresence, isEncrypted, isCache, isServerToUser: name.startsWith(SERVER_TO_USER_PREFIX) };
}

export const MAX_CHANNEL_NAME_LENGTH = 164;
const CHANNEL_NAME = /^[A-Za-z0-9_\-=@,.;]+$/;

/**
 * Why a channel name is not acceptable, or undefined when it is fine.
 * `maxLength` is the app's `max_channel_name_length`, which may only lower Pusher's 164.
 */
export function channelNameProblem(name: string, maxLength = MAX_CHANNEL_NAME_LENGTH): string | undefined {
  if (name.startsWith(SERVER_TO_USER_PREFIX)) {
    return CHANNEL_NAME.test(name.slice(SERVER_TO_USER_PREFIX.length)) ? undefined : 'invalid user id in channel name';
  }
  if (name.length === 0) return 'channel name is empty';
  if (name.length > maxLength) return `channel name longer than ${maxLength} characters (max_channel_name_length)`;
  if (!CHANNEL_NAME.test(name)) return 'channel name may only contain A-Z a-z 0-9 _ - = @ , . ;';
  return undefined;
}
