/** GET /apps/{id}/channels, /channels/{name}, /channels/{name}/users and /connections. */
import type { ApiContext } from './context.js';
import { channelAttributes } from './channel-info.js';
import { BadRequest, json } from './responses.js';
import type { ApiResponse } from './types.js';
import { channelKind } from '../protocol/channels/names.js';
import { channelName, infoAttributes } from './validation.js';

export async function listChannels(context: ApiContext): Promise<ApiResponse> {
  const prefix = context.params.get('filter_by_prefix') ?? '';
  const info = infoAttributes(context.params.get('info'));
  const occupied = await context.server.cluster.occupiedChannels(context.app.id);
  // No prototype: a channel may be called `__proto__`.
  const channels: Record<string, Record<string, number>> = Object.create(null);
  for (const [name, counts] of occupied) {
    if (name.startsWith(prefix)) channels[name] = channelAttributes(name, counts, info);
  }
  return json({ channels });
}

export async function showChannel(context: ApiContext): Promise<ApiResponse> {
  const name = channelName(context.route.channel, '', context.app.config);
  const info = infoAttributes(context.params.get('info'));
  const cluster = context.server.cluster;
  const counts = await cluster.channelCounts(context.app.id, name);
  if (counts.subscriptionCount === 0) return json({ occupied: false });
  const body: Record<string, unknown> = { occupied: true, ...channelAttributes(name, counts, info) };
  if (info.has('cache') && channelKind(name).isCache) {
    const frame = await cluster.cachedFrame(context.app.id, name);
    if (frame !== undefined) body.cache = JSON.parse(frame);
  }
  return json(body);
}

export async function channelUsers(context: ApiContext): Promise<ApiResponse> {
  const name = channelName(context.route.channel, '', context.app.config);
  if (!channelKind(name).isPresence) throw new BadRequest('Users can only be listed for presence channels.');
  const members = await context.server.cluster.presenceMembers(context.app.id, name);
  return {
    status: 200,
    body: `{"users":[${members.map((member) => `{"id":${member.userIdJson}}`).join(',')}]}`,
  };
}

export async function connectionCount(context: ApiContext): Promise<ApiResponse> {
  return json({ connections: await context.server.cluster.connectionCount(context.app.id) });
}

export async function terminateUserConnections(context: ApiContext): Promise<ApiResponse> {
  await context.server.cluster.terminateUser(context.app.id, context.route.user!);
  return json({});
}
