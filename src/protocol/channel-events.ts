/**
 * What happens to channels, as webhooks (and later metrics) need it. The
 * protocol reports client events and cache misses; the cluster reports
 * occupied/vacated and member transitions, because only it knows when they
 * happen cluster-wide (and reports each once, on one server).
 */
export interface ChannelEvents {
  channelOccupied(appId: string, channel: string): void;
  /**
   * Departures are reported at once and held back by the receiver for
   * Pusher's window; `stillStands`, when given, tells at the window's end
   * whether an arrival elsewhere in the cluster cancelled it meanwhile.
   */
  channelVacated(appId: string, channel: string, stillStands?: () => Promise<boolean>): void;
  memberAdded(appId: string, channel: string, userId: string): void;
  memberRemoved(appId: string, channel: string, userId: string, stillStands?: () => Promise<boolean>): void;
  /** `data` as the client sent it (decoded); `userId` on presence channels. */
  clientEvent(appId: string, channel: string, event: string, data: unknown, socketId: string, userId: string | undefined): void;
  cacheMiss(appId: string, channel: string): void;
  /** The cluster-wide subscriber count of a non-presence channel changed (apps with subscription_count_events). */
  subscriptionCount(appId: string, channel: string, count: number): void;
}

const ignore = (): void => undefined;

export const NO_CHANNEL_EVENTS: ChannelEvents = {
  channelOccupied: ignore,
  channelVacated: ignore,
  memberAdded: ignore,
  memberRemoved: ignore,
  clientEvent: ignore,
  cacheMiss: ignore,
  subscriptionCount: ignore,
};
