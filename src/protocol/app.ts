/** One configured app on this server: its connections and channels. */
import type { AppConfig } from '../config/types.js';
import type { Connection } from './connection.js';
import { Channel } from './channels/channel.js';
import type { PusherServer } from './server.js';
import { Watchers } from './watchlist.js';

export class AppRuntime {
  readonly connections = new Map<string, Connection>();
  readonly channels = new Map<string, Channel>();
  /** Signed-in connections per user on this server: the user is online here while it has one. */
  readonly signedIn = new Map<string, number>();
  /** Connections watching users (watchlist events). */
  readonly watchers = new Watchers();

  constructor(
    /** Replaced when the app's settings change in its store (PusherServer.runtime). */
    public config: AppConfig,
    readonly server: PusherServer,
  ) {}

  get id(): string {
    return this.config.id;
  }

  channel(name: string): Channel {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = new Channel(name);
      this.channels.set(name, channel);
    }
    return channel;
  }

  /** Drops the channel once its last subscriber left, so no state leaks. */
  releaseIfEmpty(channel: Channel): void {
    if (channel.isEmpty && this.channels.get(channel.name) === channel) this.channels.delete(channel.name);
  }
}
