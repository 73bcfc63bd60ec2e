/**
 * The Redis cluster: servers sharing one Redis behave like one big server.
 *
 * - Deliveries: a server subscribes only to the topics of channels its own
 *   clients are in, delivers its own publishes locally at once and skips them
 *   when Redis echoes them back.
 * - Shared state (counts, presence members, cache) lives in Redis and is
 *   changed by atomic Lua scripts; queries are one round trip.
 * - Liveness: every server heartbeats; a server silent for `node_timeout` is
 *   removed by the others (its members get member_removed).
 * - Redis outage: local delivery goes on, state changes are answered locally,
 *   and on reconnect the server re-registers its whole local state.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ScalingConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { PusherServer } from '../protocol/server.js';
import { memberAddedFrame, memberRemovedFrame } from '../protocol/presence.js';
import { LocalCluster } from './local.js';
import { createRedis } from './redis-connection.js';
import * as scripts from './redis-scripts.js';
import type { ChannelCounts, ChannelDelivery, Cluster, PresenceMember } from './types.js';

const SEP = '\x1f';

interface WireDelivery {
  /** Origin node: the origin already delivered locally. Absent for script-published frames. */
  o?: string;
  a: string;
  c: string;
  f: string;
  x?: string;
}

type ControlMessage = { type: 'terminate'; a: string; u: string } | { type: 'restart' };

type ScriptName = keyof typeof SCRIPT_SOURCES;
const SCRIPT_SOURCES = {
  reverbSubscription: scripts.SUBSCRIPTION,
  reverbConnections: scripts.CONNECTIONS,
  reverbPresenceJoin: scripts.PRESENCE_JOIN,
  reverbPresenceLeave: scripts.PRESENCE_LEAVE,
  reverbReconcile: scripts.RECONCILE,
  reverbHeartbeat: scripts.HEARTBEAT,
  reverbRemoveDeadNodes: scripts.REMOVE_DEAD_NODES,
  reverbDeregister: scripts.DEREGISTER,
} as const;

export interface RedisClusterOptions {
  readonly scaling: ScalingConfig;
  readonly logger: Logger;
  /** Seconds without heartbeat after which a server counts as dead. */
  readonly nodeTimeout: number;
  /** Called when `reverb restart` is broadcast through Redis. */
  readonly onRestart?: () => void;
}

export class RedisCluster implements Cluster {
  readonly nodeId = randomBytes(8).toString('hex');
  private readonly ns: string;
  private readonly command: Redis;
  private readonly subscriber: Redis;
  /** Answers (and local delivery) while Redis is unavailable. */
  private readonly local = new LocalCluster();
  private server: PusherServer | undefined;
  /** Topics this server must be subscribed to: one per locally occupied channel, plus control. */
  private readonly topics = new Set<string>();
  private healthy = false;
  /** Some state change could not reach Redis: re-register everything at the next chance. */
  private dirty = false;
  private registered = false;
  private timers: NodeJS.Timeout[] = [];
  /** Connection counts per app waiting for the end of the event-loop iteration. */
  private readonly pendingConnectionCounts = new Map<string, number>();
  private closing = false;

  constructor(private readonly options: RedisClusterOptions) {
    this.ns = options.scaling.channel;
    this.command = createRedis(options.scaling.server, `reverb-ts:${this.nodeId}:command`);
    this.subscriber = createRedis(options.scaling.server, `reverb-ts:${this.nodeId}:subscriber`);
    for (const [name, lua] of Object.entries(SCRIPT_SOURCES)) this.command.defineCommand(name, { numberOfKeys: 0, lua });
    this.topics.add(this.controlTopic);
  }

  private get controlTopic(): string {
    return `${this.ns}:control`;
  }

  private topic(appId: string, channel: string): string {
    return `${this.ns}:channel:${appId}:${channel}`;
  }

  private appKey(appId: string, suffix: string): string {
    return `${this.ns}:app:${appId}:${suffix}`;
  }

  private run<T>(script: ScriptName, ...args: (string | number)[]): Promise<T> {
    const call = (this.command as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<T>>)[script];
    return call.call(this.command, this.ns, ...args);
  }

  attach(server: PusherServer): void {
    this.server = server;
    this.local.attach(server);
  }

  /** Connects both Redis connections; the server starts even when Redis is down (it reconnects). */
  async start(): Promise<void> {
    const { logger } = this.options;
    this.subscriber.on('message', (topic: string, message: string) => this.received(topic, message));
    this.subscriber.on('ready', () => {
      void this.subscriber.subscribe(...this.topics).catch(() => undefined);
    });
    this.command.on('ready', () => {
      const wasDown = this.registered;
      this.healthy = true;
      if (wasDown) logger.info('Redis connection restored: re-registering this server');
      void this.register();
    });
    const lost = () => {
      if (this.healthy && !this.closing) logger.warn('Redis connection lost: serving local clients only, reconnecting');
      this.healthy = false;
      this.dirty = true;
    };
    this.command.on('close', lost);
    this.command.on('error', (error: Error) => {
      if (!this.registered && !this.closing) logger.warn(`Redis unavailable (${error.message}): serving local clients only, retrying`);
    });
    this.subscriber.on('error', () => undefined);

    await Promise.allSettled([this.command.connect(), this.subscriber.connect()]);
    const interval = (this.options.nodeTimeout * 1000) / 3;
    this.timers.push(setInterval(() => void this.heartbeat(), interval));
    this.timers.push(setInterval(() => void this.removeDeadNodes(), interval));
  }

  /** Heartbeat + full re-registration of the local state (first connect, reconnect, after being declared dead). */
  private async register(): Promise<void> {
    try {
      await this.run('reverbHeartbeat', this.nodeId);
      this.dirty = false;
      await Promise.all([
        this.run('reverbReconcile', this.nodeId, JSON.stringify(this.localState())),
        this.subscriber.subscribe(...this.topics),
      ]);
      this.registered = true;
    } catch {
      this.dirty = true;
    }
  }

  private async heartbeat(): Promise<void> {
    if (!this.healthy) return;
    try {
      const missing = await this.run<number>('reverbHeartbeat', this.nodeId);
      if (missing === 1 || this.dirty) await this.register();
    } catch {
      this.dirty = true;
    }
  }

  private async removeDeadNodes(): Promise<void> {
    if (!this.healthy) return;
    try {
      const dead = await this.run<string[]>('reverbRemoveDeadNodes', this.options.nodeTimeout * 1000);
      for (const node of dead) this.options.logger.warn(`Server ${node} stopped answering: removed its connections from the cluster`);
    } catch {
      this.dirty = true;
    }
  }

  /** This server's share of the cluster state, as the reconcile script expects it. */
  private localState(): { subs: Record<string, number>; users: Record<string, string>; apps: Record<string, number> } {
    const state = { subs: {} as Record<string, number>, users: {} as Record<string, string>, apps: {} as Record<string, number> };
    for (const app of this.server?.appsById.values() ?? []) {
      if (app.connections.size > 0) state.apps[app.id] = app.connections.size;
      for (const channel of app.channels.values()) {
        if (channel.isEmpty) continue;
        state.subs[`${app.id}${SEP}${channel.name}`] = channel.subscribers.size;
        for (const [userId, local] of channel.localMembers) {
          state.users[`${app.id}${SEP}${channel.name}${SEP}${userId}`] = JSON.stringify(local.member);
        }
      }
    }
    return state;
  }

  private received(topic: string, message: string): void {
    let parsed: WireDelivery | ControlMessage;
    try {
      parsed = JSON.parse(message) as WireDelivery | ControlMessage;
    } catch {
      return;
    }
    if (topic === this.controlTopic) return this.control(parsed as ControlMessage);
    const delivery = parsed as WireDelivery;
    if (delivery.o === this.nodeId) return;
    this.server?.deliver({ appId: delivery.a, channel: delivery.c, frame: delivery.f, exceptSocketId: delivery.x });
  }

  private control(message: ControlMessage): void {
    if (message.type === 'terminate') this.server?.terminateLocalUser(message.a, message.u);
    else if (message.type === 'restart') this.options.onRestart?.();
  }

  /** Marks the state as needing re-registration; used as the catch of fire-and-forget writes. */
  private readonly markDirty = (): void => {
    this.dirty = true;
  };

  publish(delivery: ChannelDelivery): void {
    this.server?.deliver(delivery);
    if (!this.healthy) return;
    const wire: WireDelivery = { o: this.nodeId, a: delivery.appId, c: delivery.channel, f: delivery.frame };
    if (delivery.exceptSocketId !== undefined) wire.x = delivery.exceptSocketId;
    this.command.publish(this.topic(delivery.appId, delivery.channel), JSON.stringify(wire)).catch(() => undefined);
  }

  subscribed(appId: string, channel: string, firstLocal: boolean): void | Promise<void> {
    const topic = this.topic(appId, channel);
    if (firstLocal) this.topics.add(topic);
    if (!this.healthy) {
      this.dirty = true;
      return;
    }
    return Promise.all([
      firstLocal ? this.subscriber.subscribe(topic) : undefined,
      this.run('reverbSubscription', this.nodeId, appId, channel, 1),
    ]).then(() => undefined, this.markDirty);
  }

  unsubscribed(appId: string, channel: string, lastLocal: boolean): void {
    const topic = this.topic(appId, channel);
    if (lastLocal) this.topics.delete(topic);
    if (!this.healthy) {
      this.dirty = true;
      return;
    }
    if (lastLocal) this.subscriber.unsubscribe(topic).catch(() => undefined);
    this.run('reverbSubscription', this.nodeId, appId, channel, -1).catch(this.markDirty);
  }

  /**
   * The count is absolute, so a burst of connects and disconnects in one
   * event-loop iteration needs only the last value: one script per app per
   * iteration instead of one per connection.
   */
  connectionsChanged(appId: string, localCount: number): void {
    if (!this.healthy) {
      this.dirty = true;
      return;
    }
    if (this.pendingConnectionCounts.size === 0) setImmediate(() => this.writeConnectionCounts());
    this.pendingConnectionCounts.set(appId, localCount);
  }

  private writeConnectionCounts(): void {
    for (const [appId, count] of this.pendingConnectionCounts) {
      this.run('reverbConnections', this.nodeId, appId, count).catch(this.markDirty);
    }
    this.pendingConnectionCounts.clear();
  }

  async presenceJoined(
    appId: string,
    channel: string,
    member: PresenceMember,
    socketId: string,
    maxMembers: number,
  ): Promise<readonly PresenceMember[] | undefined> {
    if (this.healthy) {
      try {
        const [added, members] = await this.run<[number, string[]]>(
          'reverbPresenceJoin',
          this.nodeId,
          appId,
          channel,
          member.userId,
          JSON.stringify(member),
          memberAddedFrame(channel, member),
          socketId,
          maxMembers,
        );
        if (added === -1) return undefined;
        return members.map((json) => JSON.parse(json) as PresenceMember);
      } catch {
        this.dirty = true;
      }
    }
    this.dirty = true;
    return this.local.presenceJoined(appId, channel, member, socketId, maxMembers);
  }

  async presenceLeft(appId: string, channel: string, member: PresenceMember): Promise<void> {
    if (this.healthy) {
      try {
        await this.run('reverbPresenceLeave', this.nodeId, appId, channel, member.userId, memberRemovedFrame(channel, member));
        return;
      } catch {
        this.dirty = true;
      }
    }
    this.dirty = true;
    return this.local.presenceLeft(appId, channel, member);
  }

  async presenceMembers(appId: string, channel: string): Promise<readonly PresenceMember[]> {
    return this.query(
      async () => (await this.command.hvals(this.appKey(appId, `members:${channel}`))).map((json) => JSON.parse(json) as PresenceMember),
      () => this.local.presenceMembers(appId, channel),
    );
  }

  cacheStore(appId: string, channel: string, frame: string, ttlSeconds: number): void {
    this.local.cacheStore(appId, channel, frame, ttlSeconds);
    if (!this.healthy) return;
    this.command.set(this.appKey(appId, `cache:${channel}`), frame, 'PX', Math.ceil(ttlSeconds * 1000)).catch(() => undefined);
  }

  async cachedFrame(appId: string, channel: string): Promise<string | undefined> {
    return this.query(
      async () => (await this.command.get(this.appKey(appId, `cache:${channel}`))) ?? undefined,
      () => this.local.cachedFrame(appId, channel),
    );
  }

  async channelCounts(appId: string, channel: string): Promise<ChannelCounts> {
    return this.query(
      async () => {
        const [subscriptions, users] = await this.command
          .pipeline()
          .hget(this.appKey(appId, 'channels'), channel)
          .hget(this.appKey(appId, 'user_counts'), channel)
          .exec()
          .then((results) => (results ?? []).map(([error, value]) => (error ? Promise.reject(error) : value)));
        return { subscriptionCount: Number(subscriptions ?? 0), userCount: Number(users ?? 0) };
      },
      () => this.local.channelCounts(appId, channel),
    );
  }

  async occupiedChannels(appId: string): Promise<ReadonlyMap<string, ChannelCounts>> {
    return this.query(
      async () => {
        const results = (await this.command
          .pipeline()
          .hgetall(this.appKey(appId, 'channels'))
          .hgetall(this.appKey(appId, 'user_counts'))
          .exec()) ?? [];
        for (const [error] of results) if (error) throw error;
        const [channels, users] = results.map(([, value]) => value as Record<string, string>);
        const out = new Map<string, ChannelCounts>();
        for (const [name, count] of Object.entries(channels ?? {})) {
          out.set(name, { subscriptionCount: Number(count), userCount: Number(users?.[name] ?? 0) });
        }
        return out;
      },
      () => this.local.occupiedChannels(appId),
    );
  }

  async connectionCount(appId: string): Promise<number> {
    return this.query(
      async () => (await this.command.hvals(this.appKey(appId, 'connections'))).reduce((sum, count) => sum + Number(count), 0),
      () => this.local.connectionCount(appId),
    );
  }

  async terminateUser(appId: string, userId: string): Promise<void> {
    if (this.healthy) {
      try {
        await this.command.publish(this.controlTopic, JSON.stringify({ type: 'terminate', a: appId, u: userId }));
        return;
      } catch {
        // fall through: at least this server's connections go
      }
    }
    await this.local.terminateUser(appId, userId);
  }

  /** Answers from Redis, or from this server alone while Redis is unavailable. */
  private async query<T>(fromRedis: () => Promise<T>, fromLocal: () => Promise<T>): Promise<T> {
    if (this.healthy) {
      try {
        return await fromRedis();
      } catch {
        // Redis failed mid-query: the local view is the best answer we have.
      }
    }
    return fromLocal();
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.healthy) await this.run('reverbDeregister', this.nodeId).catch(() => undefined);
    this.command.disconnect();
    this.subscriber.disconnect();
    await this.local.close();
  }
}
