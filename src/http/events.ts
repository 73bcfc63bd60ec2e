/** POST /apps/{id}/events and /batch_events: publish, then answer with the requested channel info. */
import { ClusterUnavailable } from '../protocol/cluster.js';
import type { ApiContext } from './context.js';
import { channelAttributes } from './channel-info.js';
import { BadRequest, LimitExceeded, json } from './responses.js';
import type { ApiResponse } from './types.js';
import type { AppConfig } from '../config/types.js';
import {
  channelName,
  eventData,
  eventName,
  infoAttributes,
  optionalString,
  parseJsonObject,
  targetChannels,
} from './validation.js';

/**
 * The requested attributes of a channel the event went to. The event is out
 * by now, so when the cluster state cannot be read the attributes are left
 * out rather than failing the request (a retry would publish it twice).
 */
async function infoFor(context: ApiContext, channel: string, info: Set<string>): Promise<Record<string, number>> {
  try {
    return channelAttributes(channel, await context.server.cluster.channelCounts(context.app.id, channel), info);
  } catch (error) {
    if (error instanceof ClusterUnavailable) return {};
    throw error;
  }
}

export async function triggerEvent(context: ApiContext): Promise<ApiResponse> {
  const config = context.app.config;
  const body = parseJsonObject(context.body);
  const name = eventName(body.name, '', config);
  const data = eventData(body.data, '', config);
  const channels = targetChannels(body, config);
  const socketId = optionalString(body.socket_id, 'socket_id', '');
  const info = infoAttributes(optionalString(body.info, 'info', ''));
  await context.spendEventPoints(channels.length);

  for (const channel of channels) context.server.publishEvent(context.app, channel, name, data, socketId);
  if (info.size === 0) return json({});
  const result: Record<string, Record<string, number>> = Object.create(null);
  for (const channel of channels) result[channel] = await infoFor(context, channel, info);
  return json({ channels: result });
}

interface BatchItem {
  channel: string;
  name: string;
  data: string;
  socketId: string | undefined;
  info: Set<string>;
}

function readBatch(body: Record<string, unknown>, config: AppConfig): BatchItem[] {
  const batch = body.batch;
  if (!Array.isArray(batch) || batch.length === 0) throw new BadRequest('batch must be a non-empty array of events.');
  if (batch.length > config.maxBatchSize) {
    throw new LimitExceeded('max_batch_size', `Cannot batch-send more than ${config.maxBatchSize} events at once (max_batch_size).`);
  }
  return batch.map((raw: unknown, index) => {
    const where = `batch[${index}].`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequest(`batch[${index}] must be an object.`);
    const item = raw as Record<string, unknown>;
    return {
      channel: channelName(item.channel, where, config),
      name: eventName(item.name, where, config),
      data: eventData(item.data, where, config),
      socketId: optionalString(item.socket_id, 'socket_id', where),
      info: infoAttributes(optionalString(item.info, 'info', where)),
    };
  });
}

export async function triggerBatch(context: ApiContext): Promise<ApiResponse> {
  // Validate every item before publishing any, so a bad batch publishes nothing.
  const items = readBatch(parseJsonObject(context.body), context.app.config);
  // One point per event: each goes to one channel.
  await context.spendEventPoints(items.length);
  for (const item of items) context.server.publishEvent(context.app, item.channel, item.name, item.data, item.socketId);
  if (items.every((item) => item.info.size === 0)) return json({ batch: {} });
  const batch = [];
  for (const item of items) batch.push(item.info.size === 0 ? {} : await infoFor(context, item.channel, item.info));
  return json({ batch });
}
