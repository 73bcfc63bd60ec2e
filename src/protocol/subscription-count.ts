/**
 * Pusher's subscription_count events (opt-in per app, `subscription_count_events`):
 * subscribers of a non-presence channel learn the cluster-wide subscriber
 * count as `pusher_internal:subscription_count` when it changes. Changes are
 * only marked as they happen and sent at the next liveness sweep, so a burst
 * of joins costs one message per channel per sweep period.
 */
import type { AppRuntime } from './app.js';
import { channelKind } from './channels/names.js';
import { encodeFrame } from './wire.js';

export function subscriptionCountFrame(channel: string, count: number): string {
  return encodeFrame('pusher_internal:subscription_count', `{"subscription_count":${count}}`, channel);
}

export class SubscriptionCounts {
  private readonly changed = new Map<AppRuntime, Set<string>>();
  private flushing = false;

  /** A subscriber came or went on this server. */
  mark(app: AppRuntime, channel: string): void {
    if (!app.config.subscriptionCountEvents || channelKind(channel).isPresence) return;
    let channels = this.changed.get(app);
    if (!channels) this.changed.set(app, (channels = new Set()));
    channels.add(channel);
  }

  /**
   * Reads each changed channel's count from the cluster and publishes it to
   * the channel on every server (the server that saw the change speaks for all).
   */
  async flush(): Promise<void> {
    if (this.flushing || this.changed.size === 0) return;
    this.flushing = true;
    const batch = [...this.changed];
    this.changed.clear();
    try {
      for (const [app, channels] of batch) {
        for (const channel of channels) {
          // Unknown while the cluster state cannot be read (ClusterUnavailable): the next change sends it.
          const counts = await app.server.cluster.channelCounts(app.id, channel).catch(() => undefined);
          if (!counts) continue;
          const { subscriptionCount } = counts;
          // Subscribers are told the count by every server that saw a change (it is absolute, so a repeat is harmless).
          if (subscriptionCount > 0) {
            app.server.cluster.publish({ appId: app.id, channel, frame: subscriptionCountFrame(channel, subscriptionCount) });
          }
          // The webhook goes once per change of the cluster-wide count.
          const announced = await app.server.cluster.subscriptionCountToAnnounce(app.id, channel).catch(() => undefined);
          if (announced !== undefined) app.server.channelEvents.subscriptionCount(app.id, channel, announced);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
