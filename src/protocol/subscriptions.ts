/**
 * `pusher:subscribe` / `pusher:unsubscribe` and the clean-up on disconnect:
 * authorization, presence membership, cache replay and channel bookkeeping.
 */
import type { PresenceMember } from './cluster.js';
import type { Connection } from './connection.js';
import type { LimitName } from './observer.js';
import type { Channel } from './channels/channel.js';
import { SERVER_TO_USER_PREFIX, channelKind, channelNameProblem } from './channels/names.js';
import { memberFrom, parseMember, presenceData } from './presence.js';
import { channelStringToSign, verifyAuth } from './signatures.js';
import { ERRORS, cacheMissFrame, encodeFrame, subscriptionErrorFrame } from './wire.js';

const SUBSCRIBED = 'pusher_internal:subscription_succeeded';

interface SubscribeRequest {
  channel: string;
  auth: string | undefined;
  channelData: string | undefined;
}

/** Checks the shape Reverb checks; anything else is "Invalid message format". */
function readSubscribe(data: unknown): SubscribeRequest | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { channel, auth, channel_data: channelData } = data as Record<string, unknown>;
  if (typeof channel !== 'string') return undefined;
  if (auth !== undefined && auth !== null && typeof auth !== 'string') return undefined;
  if (channelData !== undefined && channelData !== null && typeof channelData !== 'string') return undefined;
  if (typeof channelData === 'string' && channelData !== '' && !isJson(channelData)) return undefined;
  return {
    channel,
    auth: auth ?? undefined,
    channelData: channelData === '' || channelData === null ? undefined : channelData,
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Who the connection joins a presence channel as: the signed channel_data, or
 * (pusher-js with user authentication) the signed-in user.
 */
function presenceMember(connection: Connection, channelData: string | undefined): PresenceMember | undefined {
  if (channelData !== undefined) return parseMember(channelData);
  if (!connection.user) return undefined;
  const userData = JSON.parse(connection.user.userData) as Record<string, unknown>;
  return memberFrom(connection.user.id, userData.user_info);
}

export function subscribe(connection: Connection, data: unknown): void | Promise<void> {
  const request = readSubscribe(data);
  if (!request) return connection.error(ERRORS.invalidMessage);
  const { channel: name, auth, channelData } = request;
  const app = connection.app;
  const problem = channelNameProblem(name, app.config.maxChannelNameLength);
  if (problem) return connection.error({ code: 4200, message: `Invalid channel name ${JSON.stringify(name)}: ${problem}` });

  const kind = channelKind(name);
  if (kind.isServerToUser) {
    if (connection.user?.id !== name.slice(SERVER_TO_USER_PREFIX.length)) return connection.error(ERRORS.unauthorized);
  } else if (kind.isPrivate) {
    const toSign = channelStringToSign(connection.socketId, name, channelData);
    if (!verifyAuth(auth, app.config.key, app.config.secret, toSign)) return connection.error(ERRORS.unauthorized);
  }

  let member: PresenceMember | undefined;
  if (kind.isPresence) {
    member = presenceMember(connection, channelData);
    if (!member) {
      return connection.error({ code: 4200, message: 'Presence channel_data must be a JSON object with a user_id' });
    }
    const limit = app.config.maxPresenceUserInfoSize;
    if (member.userInfo !== undefined && Buffer.byteLength(JSON.stringify(member.userInfo)) > limit) {
      return limitReached(connection, name, 'max_presence_user_info_size', 4301, `The presence user_info is larger than ${limit} bytes.`);
    }
  }

  const existing = connection.channels.get(name);
  if (existing) return resendSucceeded(connection, existing);
  const maxChannels = app.config.maxChannelsPerConnection;
  if (connection.channels.size >= maxChannels) {
    return limitReached(connection, name, 'max_channels_per_connection', 4100, `A connection may be subscribed to at most ${maxChannels} channels.`);
  }

  const channel = app.channel(name);
  connection.channels.set(name, channel);
  const firstLocal = channel.add(connection, member);
  if (kind.isPrivate) connection.authorized = true;
  app.server.observer.subscribed(connection, name);
  app.server.subscriptionCounts.mark(app, name);
  const registered = app.server.cluster.subscribed(app.id, name, channel.subscribers.size === 1);

  if (member || kind.isCache || registered) return completeSubscription(connection, channel, member, firstLocal, registered);
  connection.send(encodeFrame(SUBSCRIBED, '{}', name));
}

/** The subscribe steps that may wait on the cluster: registration, presence join, cache replay. */
async function completeSubscription(
  connection: Connection,
  channel: Channel,
  member: PresenceMember | undefined,
  firstLocal: boolean,
  registered: void | Promise<void>,
): Promise<void> {
  await registered;
  if (member) return joinPresence(connection, channel, member, firstLocal);
  connection.send(encodeFrame(SUBSCRIBED, '{}', channel.name));
  if (channel.kind.isCache) await replayCache(connection, channel.name);
}

/** A duplicate subscribe is idempotent: confirm again, change nothing. */
async function resendSucceeded(connection: Connection, channel: Channel): Promise<void> {
  const app = connection.app;
  if (channel.kind.isPresence) {
    const members = await app.server.cluster.membersForSubscriber(app.id, channel.name);
    connection.send(encodeFrame(SUBSCRIBED, presenceData(members), channel.name));
  } else {
    connection.send(encodeFrame(SUBSCRIBED, '{}', channel.name));
  }
  if (channel.kind.isCache) await replayCache(connection, channel.name);
}

async function joinPresence(connection: Connection, channel: Channel, member: PresenceMember, firstLocal: boolean): Promise<void> {
  const app = connection.app;
  const cluster = app.server.cluster;
  const maxMembers = app.config.maxPresenceMembersPerChannel;
  const members = firstLocal
    ? await cluster.presenceJoined(app.id, channel.name, member, connection.socketId, maxMembers)
    : await cluster.membersForSubscriber(app.id, channel.name);
  if (!members) {
    // The join never happened cluster-wide: undo it here without a member_removed.
    void detach(connection, channel, false);
    return limitReached(connection, channel.name, 'max_presence_members_per_channel', 4100, `The presence channel already has ${maxMembers} members.`);
  }
  connection.send(encodeFrame(SUBSCRIBED, presenceData(members), channel.name));
  if (channel.kind.isCache) await replayCache(connection, channel.name);
}

async function replayCache(connection: Connection, name: string): Promise<void> {
  const app = connection.app;
  const frame = await app.server.cluster.cachedFrame(app.id, name);
  if (frame !== undefined) return connection.send(frame);
  connection.send(cacheMissFrame(name));
  app.server.channelEvents.cacheMiss(app.id, name);
}

export function unsubscribe(connection: Connection, data: unknown): void | Promise<void> {
  if (data === null || typeof data !== 'object') return connection.error(ERRORS.invalidMessage);
  const name = (data as Record<string, unknown>).channel;
  if (typeof name !== 'string') return connection.error(ERRORS.invalidMessage);
  const channel = connection.channels.get(name);
  if (!channel) return;
  return leave(connection, channel);
}

/** A subscription refused by a limit: the client learns why and which channel (status as soketi's). */
function limitReached(connection: Connection, channel: string, limit: LimitName, status: number, message: string): void {
  connection.app.server.observer.limited(connection, limit);
  connection.send(subscriptionErrorFrame(channel, 'LimitReached', message, status));
}

/**
 * Takes the connection out of the channel. With `announce`, a presence user's
 * last connection here leaves the channel (member_removed) — before the
 * channel is reported empty, so member_removed precedes channel_vacated.
 */
function detach(connection: Connection, channel: Channel, announce: boolean): void | Promise<void> {
  const app = connection.app;
  connection.channels.delete(channel.name);
  const lastLocal = channel.remove(connection);
  app.releaseIfEmpty(channel);
  const left = announce && lastLocal ? app.server.cluster.presenceLeft(app.id, channel.name, lastLocal) : undefined;
  app.server.cluster.unsubscribed(app.id, channel.name, channel.isEmpty);
  app.server.observer.unsubscribed(connection, channel.name);
  app.server.subscriptionCounts.mark(app, channel.name);
  return left;
}

function leave(connection: Connection, channel: Channel): void | Promise<void> {
  return detach(connection, channel, true);
}

/** On disconnect: leave every channel (member_removed, counts) so no state leaks. */
export async function unsubscribeAll(connection: Connection): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const channel of [...connection.channels.values()]) {
    const result = leave(connection, channel);
    if (result) pending.push(result);
  }
  await Promise.all(pending);
}
