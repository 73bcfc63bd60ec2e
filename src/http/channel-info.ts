/** The `info` attributes of a channel, shared by /events, /batch_events and /channels. */
import type { ChannelCounts } from '../protocol/cluster.js';
import { channelKind } from '../protocol/channels/names.js';

export function channelAttributes(name: string, counts: ChannelCounts, info: ReadonlySet<string>): Record<string, number> {
  const attributes: Record<string, number> = {};
  if (info.has('user_count') && channelKind(name).isPresence) attributes.user_count = counts.userCount;
  if (info.has('subscription_count')) attributes.subscription_count = counts.subscriptionCount;
  return attributes;
}
