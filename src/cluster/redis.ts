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
 * - Redis down or not answering (redis-link.ts): nothing waits longer than the
 *   deadline; local delivery goes on, subscribes and presence are answered
 *   locally, HTTP API queries are refused (ClusterUnavailable), and when Redis
 *   is back the server re-registers its whole local state and brings its
 *   clients' view of presence members up to date (presence-views.ts).
 * - Webhooks: pending deliveries are kept in a stream per server, which a
 *   live server takes over when its server is gone (webhook-stream.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AppConfig, ScalingConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { PusherServer } from '../protocol/server.js';
import { memberAddedFrame, memberRemovedFrame } from '../protocol/presence.js';
import { LocalCluster } from './local.js';
import { PresenceViews } from './presence-views.js';
import { RECONNECT_MAX_MS, createRedis } from './redis-connection.js';
import { DEADLINE_MS, RedisLink, withDeadline } from './redis-link.js';
import { RedisQueries, appKey } from './redis-queries.js';
import { scriptNames, timeCommands, type RedisCommandObserver } from './redis-timing.js';
import * as scripts from './redis-scripts.js';
import { WebhookStream } from './webhook-stream.js';
import { ClusterUnavailable, type ChannelCounts, type ChannelDelivery, type Cluster, type PresenceMember } from '../protocol/cluster.js';
import type { LimitName } from '../protocol/observer.js';
import type { RateSpend } from '../protocol/rate-windows.js';

const SEP = '\x1f';

/** Member lists per sync script call: bounds how long one call holds Redis. */
const SYNC_BATCH = 100;

const noop = (): void => undefined;

/** A message on a channel topic: a delivery, or a member list for a node's sync. */
interface WireMessage {
  a: string;
  c: string;
  /** Origin node: the origin already delivered locally. Absent for script-published frames. */
  o?: string;
  /** The frame to deliver, and a socket to skip. */
  f?: string;
  x?: string;
  /** Membership events: the member JSON that joined, or the user id that left. */
  j?: string;
  r?: string;
  /** A join script's marker (presence-views.ts, PendingJoin). */
  k?: string;
  /** Sync: the node that asked, the member JSONs, and whether members missing from the list are removed. */
  s?: string;
  m?: unknown;
  d?: boolean;
}

type ControlMessage = { type: 'terminate'; a: string; u: string } | { type: 'restart' } | { type: 'app'; id: string };

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
  reverbSyncPresence: scripts.SYNC_PRESENCE,
  reverbClaimDeparture: scripts.CLAIM_DEPARTURE,
  reverbAdoptWebhooks: scripts.ADOPT_WEBHOOKS,
  reverbUserPresence: scripts.USER_PRESENCE,
  reverbRateSpend: scripts.RATE_SPEND,
  reverbAnnounceSubscriptionCount: scripts.ANNOUNCE_SUBSCRIPTION_COUNT,
} as const;

/** A cluster-wide transition a script made: kind ('o'ccupied, 'v'acated, member 'a'dded, 'r'emoved), app, channel, user. */
type Transition = [kind: string, app: string, channel: string, user: string];

export interface RedisClusterOptions {
  readonly scaling: ScalingConfig;
  readonly logger: Logger;
  /** Seconds without heartbeat after which a server counts as dead. */
  readonly nodeTimeout: number;
  /** Called when `reverb restart` is broadcast through Redis. */
  readonly onRestart?: () => void;
  /** Told the round-trip time of every command (metrics). */
  readonly commands?: RedisCommandObserver;
}

export class RedisCluster implements Cluster {
  readonly nodeId = randomBytes(8).toString('hex');
  private readonly ns: string;
  private readonly timeoutMs: number;
  private readonly command: Redis;
  private readonly subscriber: Redis;
  private readonly link: RedisLink;
  private readonly queries: RedisQueries;
  /** Where the webhook dispatcher keeps its pending deliveries. */
  readonly webhookJournal: WebhookStream;
  /** This server's own members and cache, for answers while Redis is unavailable. */
  private readonly local = new LocalCluster();
  private readonly views = new PresenceViews(() => this.server);
  private server: PusherServer | undefined;
  /** Topics this server must be subscribed to: one per locally occupied channel, plus control. */
  private readonly topics = new Set<string>();
  /** Some state change may not have reached Redis, or pub/sub messages were lost: re-register at the next chance. */
  private dirty = false;
  private registered = false;
  private registering = false;
  private registerAgain = false;
  /** A heartbeat found this server unknown to Redis (it lost its data, or declared us dead) since the last registration. */
  private forgotten = false;
  /**
   * Set when Redis had forgotten this server while clients were in presence
   * channels: until then the other servers may still be re-registering, so
   * the sync only adds members; afterwards one more sync removes those that
   * are really gone.
   */
  private removalsFrom: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Connection counts per app waiting for the end of the event-loop iteration. */
  private readonly pendingConnectionCounts = new Map<string, number>();
  private closing = false;
  /** Numbers this server's presence joins (their markers' tokens). */
  private joins = 0;

  constructor(private readonly options: RedisClusterOptions) {
    this.ns = options.scaling.channel;
    this.timeoutMs = options.nodeTimeout * 1000;
    this.command = createRedis(options.scaling.server, `reverb-ts:${this.nodeId}:command`);
    this.subscriber = createRedis(options.scaling.server, `reverb-ts:${this.nodeId}:subscriber`);
    for (const [name, lua] of Object.entries(SCRIPT_SOURCES)) this.command.defineCommand(name, { numberOfKeys: 0, lua });
    if (options.commands) {
      const scripts = scriptNames(SCRIPT_SOURCES);
      for (const connection of [this.command, this.subscriber]) timeCommands(connection, options.commands, scripts);
    }
    this.topics.add(this.controlTopic);
    this.link = new RedisLink(this.command, {
      stalled: () => {
        this.options.logger.warn(`Redis did not answer within ${DEADLINE_MS} ms: serving local clients only until it answers again`);
      },
      answering: () => {
        this.options.logger.info('Redis answers again');
        if (this.dirty) void this.register();
      },
    });
    this.queries = new RedisQueries(this.command, this.link, this.ns);
    this.webhookJournal = new WebhookStream({
      command: this.command,
      link: this.link,
      ns: this.ns,
      nodeId: this.nodeId,
      run: (script, ...args) => this.run(script, ...args),
    });
  }

  private get controlTopic(): string {
    return `${this.ns}:control`;
  }

  private topic(appId: string, channel: string): string {
    return `${this.ns}:channel:${appId}:${channel}`;
  }

  private run<T>(script: ScriptName, ...args: (string | number)[]): Promise<T> {
    const call = (this.command as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<T>>)[script];
    return call.call(this.command, this.ns, ...args);
  }

  /** Whether Redis answers now (metrics). */
  get redisAvailable(): boolean {
    return this.link.available;
  }

  attach(server: PusherServer): void {
    this.server = server;
    this.local.attach(server);
    for (const app of server.appsById.values()) this.appLoaded(app.config);
  }

  /** An app was loaded or changed: its watchlist topic follows its `watchlist_events`. */
  appLoaded(app: AppConfig): void {
    const topic = this.watchTopic(app.id);
    if (app.watchlistEvents === this.topics.has(topic)) return;
    if (app.watchlistEvents) this.topics.add(topic);
    else this.topics.delete(topic);
    if (this.subscriber.status !== 'ready') return;
    (app.watchlistEvents ? this.subscriber.subscribe(topic) : this.subscriber.unsubscribe(topic)).catch(noop);
  }

  private watchTopic(appId: string): string {
    return `${this.ns}:watch:${appId}`;
  }

  private watches(appId: string): boolean {
    return this.server?.appsById.get(appId)?.config.watchlistEvents === true;
  }

  /** Connects both Redis connections; the server starts even when Redis is down (it reconnects). */
  async start(): Promise<void> {
    const { logger } = this.options;
    this.subscriber.on('message', (topic: string, message: string) => this.received(topic, message));
    // Both connections must be up to register (topics are subscribed before the presence sync).
    this.subscriber.on('ready', () => void this.register());
    this.subscriber.on('close', () => {
      // Pub/sub messages are lost until it is back: re-subscribe and re-sync then.
      this.dirty = true;
    });
    this.command.on('ready', () => {
      if (this.registered) logger.info('Redis connection restored: re-registering this server');
      this.link.up();
      void this.register();
    });
    this.command.on('close', () => {
      if (this.link.available && !this.closing) logger.warn('Redis connection lost: serving local clients only, reconnecting');
      this.link.down();
      this.dirty = true;
    });
    this.command.on('error', (error: Error) => {
      if (!this.registered && !this.closing) logger.warn(`Redis unavailable (${error.message}): serving local clients only, retrying`);
    });
    this.subscriber.on('error', noop);

    await Promise.allSettled([this.command.connect(), this.subscriber.connect()]);
    const interval = this.timeoutMs / 3;
    this.timers.push(setInterval(() => void this.heartbeat(), interval));
    this.timers.push(setInterval(() => void this.removeDeadNodes(), interval));
  }

  /**
   * Heartbeat + full re-registration of the local state (first connect,
   * reconnect, after a stall with lost writes, after being declared dead),
   * then the presence sync. One at a time; a request meanwhile runs it again
   * if the state is still dirty afterwards.
   */
  private async register(): Promise<void> {
    if (this.registering) {
      this.registerAgain = true;
      return;
    }
    this.registering = true;
    do {
      this.registerAgain = false;
      await this.registerOnce();
    } while (this.registerAgain && this.dirty && !this.closing);
    this.registering = false;
  }

  private async registerOnce(): Promise<void> {
    try {
      await this.beat((command) => this.link.send(command));
      this.dirty = false;
      // Subscribed before the sync publishes the member lists, so that none is missed.
      await this.subscriber.subscribe(...this.topics);
      this.report(await this.link.send(() => this.run<Transition[]>('reverbReconcile', this.nodeId, JSON.stringify(this.localState()))));
      if (this.forgotten && this.removalsFrom === undefined && !this.views.isEmpty) {
        // Every live server reconnects within RECONNECT_MAX_MS; one silent for node_timeout on top counts as dead anyway.
        this.removalsFrom = Date.now() + RECONNECT_MAX_MS + this.timeoutMs;
      }
      this.forgotten = false;
      await this.syncViews(this.removalsFrom === undefined);
      this.registered = true;
    } catch {
      this.dirty = true;
    }
  }

  /** Asks Redis to publish the member list of every presence channel this server's clients are in (see SYNC_PRESENCE). */
  private async syncViews(removals: boolean): Promise<void> {
    let args: string[] = [];
    for (const [appId, channel] of this.views.channels()) {
      args.push(appId, channel);
      if (args.length < SYNC_BATCH * 2) continue;
      await this.link.send(() => this.run('reverbSyncPresence', this.nodeId, removals ? 1 : 0, ...args));
      args = [];
    }
    if (args.length > 0) await this.link.send(() => this.run('reverbSyncPresence', this.nodeId, removals ? 1 : 0, ...args));
  }

  /** The heartbeat script, through `send`; notes when Redis did not know this server. */
  private async beat(send: (command: () => Promise<number>) => Promise<number>): Promise<void> {
    if ((await send(() => this.run<number>('reverbHeartbeat', this.nodeId, this.timeoutMs))) === 1) this.forgotten = true;
  }

  private async heartbeat(): Promise<void> {
    if (!this.link.available) return;
    try {
      await this.beat((command) => this.link.ask(command));
      if (this.forgotten || this.dirty) return await this.register();
      if (this.removalsFrom !== undefined && Date.now() >= this.removalsFrom) {
        await this.syncViews(true);
        this.removalsFrom = undefined;
      }
    } catch {
      // The link noticed what went wrong; the next beat tries again.
    }
  }

  private async removeDeadNodes(): Promise<void> {
    if (!this.link.available) return;
    try {
      const [dead, transitions] = await this.link.ask(() => this.run<[string[], Transition[]]>('reverbRemoveDeadNodes', this.timeoutMs));
      this.report(transitions);
      for (const node of dead) this.options.logger.warn(`Server ${node} stopped answering: removed its connections from the cluster`);
      // Also the streams of servers that stopped gracefully with deliveries left; not once this one stops itself.
      const adopted = this.closing ? 0 : await this.webhookJournal.adopt();
      if (adopted > 0) this.options.logger.info(`Took over ${adopted} pending webhook deliveries of servers that are gone`);
    } catch {
      // As for the heartbeat.
    }
  }

  /** This server's share of the cluster state, as the reconcile script expects it. */
  private localState(): {
    subs: Record<string, number>;
    users: Record<string, string>;
    apps: Record<string, number>;
    online: Record<string, number>;
  } {
    const state = {
      subs: {} as Record<string, number>,
      users: {} as Record<string, string>,
      apps: {} as Record<string, number>,
      online: {} as Record<string, number>,
    };
    for (const app of this.server?.appsById.values() ?? []) {
      if (app.connections.size > 0) state.apps[app.id] = app.connections.size;
      if (app.config.watchlistEvents) for (const userId of app.signedIn.keys()) state.online[`${app.id}${SEP}${userId}`] = 1;
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

  private received(topic: string, text: string): void {
    let parsed: WireMessage | ControlMessage;
    try {
      parsed = JSON.parse(text) as WireMessage | ControlMessage;
    } catch {
      return;
    }
    if (topic === this.controlTopic) return this.control(parsed as ControlMessage);
    if (topic.startsWith(`${this.ns}:watch:`)) {
      const { u, on } = parsed as unknown as { u: string; on: boolean };
      return this.server?.watchlistChanged(topic.slice(this.ns.length + 7), on ? 'online' : 'offline', [u]);
    }
    const message = parsed as WireMessage;
    if (message.s !== undefined) {
      if (message.s === this.nodeId) this.views.sync(message.a, message.c, Array.isArray(message.m) ? message.m : [], message.d === true);
      return;
    }
    if (message.k !== undefined) return this.views.marked(message.k);
    if (message.o === this.nodeId || message.f === undefined) return;
    if ((message.j !== undefined || message.r !== undefined) && !this.views.admit(message.a, message.c, message.j, message.r)) return;
    this.server?.deliver({ appId: message.a, channel: message.c, frame: message.f, exceptSocketId: message.x });
  }

  /**
   * Tells the protocol's channel events (webhooks) about the transitions a
   * script made. Only the node whose script made a transition reports it, so
   * each is reported once for the whole cluster; a departure comes with a
   * check whether it still stands when Pusher's window ends.
   */
  private readonly report = (transitions: readonly Transition[]): void => {
    const events = this.server?.channelEvents;
    if (!events) return;
    for (const [kind, appId, channel, user] of transitions) {
      if (kind === 'o') events.channelOccupied(appId, channel);
      else if (kind === 'a') events.memberAdded(appId, channel, user);
      else if (kind === 'v') events.channelVacated(appId, channel, () => this.claimDeparture(appId, channel, ''));
      else if (kind === 'r') events.memberRemoved(appId, channel, user, () => this.claimDeparture(appId, channel, user));
    }
  };

  private async claimDeparture(appId: string, channel: string, user: string): Promise<boolean> {
    return (await this.link.ask(() => this.run<number>('reverbClaimDeparture', appId, channel, user))) === 1;
  }

  private control(message: ControlMessage): void {
    if (message.type === 'terminate') this.server?.terminateLocalUser(message.a, message.u);
    else if (message.type === 'restart') this.options.onRestart?.();
    else if (message.type === 'app' && typeof message.id === 'string') void this.server?.appInvalidated(message.id);
  }

  /** Marks the state as needing re-registration; used as the catch of writes. */
  private readonly markDirty = (): void => {
    this.dirty = true;
  };

  /** Whether this server's clients are subscribed to the channel. */
  private occupied(appId: string, channel: string): boolean {
    return this.topics.has(this.topic(appId, channel));
  }

  /** Counted in Redis for the whole cluster; on this server alone while Redis cannot count (documented in docs/scaling.md). */
  spendRate(appId: string, name: LimitName, points: number, limit: number): RateSpend | Promise<RateSpend> {
    if (!this.link.available) return this.local.spendRate(appId, name, points, limit);
    return this.link.ask(() => this.run<[number, number, number]>('reverbRateSpend', appId, name, points, limit)).then(
      ([allowed, spent, resetMs]) => ({ allowed: allowed === 1, spent, resetMs }),
      () => this.local.spendRate(appId, name, points, limit),
    );
  }

  publish(delivery: ChannelDelivery): void {
    this.server?.deliver(delivery);
    // While Redis is unavailable the other servers' subscribers miss it (documented in docs/scaling.md).
    if (!this.link.available) return;
    const wire: WireMessage = { o: this.nodeId, a: delivery.appId, c: delivery.channel, f: delivery.frame };
    if (delivery.exceptSocketId !== undefined) wire.x = delivery.exceptSocketId;
    this.link.send(() => this.command.publish(this.topic(delivery.appId, delivery.channel), JSON.stringify(wire))).catch(noop);
  }

  subscribed(appId: string, channel: string, firstLocal: boolean): void | Promise<void> {
    const waits: Promise<unknown>[] = [];
    if (firstLocal) {
      const topic = this.topic(appId, channel);
      this.topics.add(topic);
      // Sent whenever the connection is up, also during a stall, so that Redis has the right topics when it
      // answers again; waited for only while Redis answers. When the connection is down, re-registration subscribes.
      if (this.subscriber.status === 'ready') {
        const subscribing = this.subscriber.subscribe(topic);
        subscribing.catch(noop);
        if (this.link.available) waits.push(withDeadline(subscribing, DEADLINE_MS).catch(noop));
      }
    }
    if (this.link.available) {
      waits.push(this.link.ask(() => this.run<Transition[]>('reverbSubscription', this.nodeId, appId, channel, 1)).then(this.report, this.markDirty));
    }
    else this.dirty = true;
    if (waits.length > 0) return Promise.all(waits).then(noop);
  }

  unsubscribed(appId: string, channel: string, lastLocal: boolean): void {
    if (lastLocal) {
      const topic = this.topic(appId, channel);
      this.topics.delete(topic);
      this.views.drop(appId, channel);
      if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(topic).catch(noop);
    }
    if (this.link.available) {
      this.link.send(() => this.run<Transition[]>('reverbSubscription', this.nodeId, appId, channel, -1)).then(this.report, this.markDirty);
    } else {
      this.dirty = true;
    }
  }

  /**
   * The count is absolute, so a burst of connects and disconnects in one
   * event-loop iteration needs only the last value: one script per app per
   * iteration instead of one per connection.
   */
  connectionsChanged(appId: string, localCount: number): void {
    if (!this.link.available) {
      this.dirty = true;
      return;
    }
    if (this.pendingConnectionCounts.size === 0) setImmediate(() => this.writeConnectionCounts());
    this.pendingConnectionCounts.set(appId, localCount);
  }

  private writeConnectionCounts(): void {
    for (const [appId, count] of this.pendingConnectionCounts) {
      this.link.send(() => this.run('reverbConnections', this.nodeId, appId, count)).catch(this.markDirty);
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
    const join = this.views.joinStarted(appId, channel, `${this.nodeId}:${++this.joins}`);
    try {
      const [added, members, transitions] = await this.link.ask(() =>
        this.run<[number, string[], Transition[]]>(
          'reverbPresenceJoin',
          this.nodeId,
          appId,
          channel,
          member.userId,
          JSON.stringify(member),
          memberAddedFrame(channel, member),
          socketId,
          maxMembers,
          join.token,
        ),
      );
      if (added === -1) return undefined;
      this.report(transitions);
      const list = members.map((json) => JSON.parse(json) as PresenceMember);
      // Without the marker (the subscriber connection is down) the list is merely less exact: bounded wait.
      await withDeadline(join.marked, DEADLINE_MS).catch(noop);
      return this.views.joined(join, list, this.occupied(appId, channel));
    } catch {
      // Answered from this server's view; re-registration tells Redis (which may also run the join when it answers).
      this.dirty = true;
    } finally {
      this.views.joinEnded(join);
    }
    const local = await this.local.presenceMembers(appId, channel);
    if (!this.occupied(appId, channel)) return local;
    return this.views.joinLocally(appId, channel, member, socketId, maxMembers, local);
  }

  async presenceLeft(appId: string, channel: string, member: PresenceMember): Promise<void> {
    try {
      this.report(
        await this.link.ask(() =>
          this.run<Transition[]>('reverbPresenceLeave', this.nodeId, appId, channel, member.userId, memberRemovedFrame(channel, member)),
        ),
      );
    } catch {
      this.dirty = true;
      this.views.leaveLocally(appId, channel, member);
    }
  }

  presenceMembers(appId: string, channel: string): Promise<readonly PresenceMember[]> {
    return this.queries.presenceMembers(appId, channel);
  }

  /**
   * What this server's clients in the channel were told: no round trip, and
   * in step with the events delivered here (a member whose join has not come
   * through yet is announced by it, like to everyone else). Redis only while
   * the channel's first join here is still waiting for its answer.
   */
  async membersForSubscriber(appId: string, channel: string): Promise<readonly PresenceMember[]> {
    return (
      this.views.members(appId, channel) ??
      this.presenceMembers(appId, channel).catch(() => this.local.presenceMembers(appId, channel))
    );
  }

  cacheStore(appId: string, channel: string, frame: string, ttlSeconds: number): void {
    this.local.cacheStore(appId, channel, frame, ttlSeconds);
    if (!this.link.available) return;
    const ttl = Math.ceil(ttlSeconds * 1000);
    this.link.send(() => this.command.set(appKey(this.ns, appId, `cache:${channel}`), frame, 'PX', ttl)).catch(noop);
  }

  cachedFrame(appId: string, channel: string): Promise<string | undefined> {
    return this.queries.cachedFrame(appId, channel).catch(() => this.local.cachedFrame(appId, channel));
  }

  async subscriptionCountToAnnounce(appId: string, channel: string): Promise<number | undefined> {
    const count = await this.link.ask(() => this.run<number>('reverbAnnounceSubscriptionCount', appId, channel));
    return count < 0 ? undefined : count;
  }

  channelCounts(appId: string, channel: string): Promise<ChannelCounts> {
    return this.queries.channelCounts(appId, channel);
  }

  occupiedChannels(appId: string): Promise<ReadonlyMap<string, ChannelCounts>> {
    return this.queries.occupiedChannels(appId);
  }

  connectionCount(appId: string): Promise<number> {
    return this.queries.connectionCount(appId);
  }

  userPresence(appId: string, userId: string, online: boolean): void {
    if (!this.watches(appId)) return;
    if (!this.link.available) {
      this.dirty = true;
      return;
    }
    this.link.send(() => this.run('reverbUserPresence', this.nodeId, appId, userId, online ? 1 : 0)).catch(this.markDirty);
  }

  async onlineUsers(appId: string, userIds: readonly string[]): Promise<ReadonlySet<string>> {
    try {
      const counts = await this.link.ask(() => this.command.hmget(appKey(this.ns, appId, 'online'), ...userIds));
      return new Set(userIds.filter((_, index) => Number(counts[index] ?? 0) > 0));
    } catch {
      // Redis cannot say: this server's own users are known to be online.
      return this.local.onlineUsers(appId, userIds);
    }
  }

  async terminateUser(appId: string, userId: string): Promise<void> {
    try {
      await this.link.ask(() => this.command.publish(this.controlTopic, JSON.stringify({ type: 'terminate', a: appId, u: userId })));
    } catch (error) {
      await this.local.terminateUser(appId, userId);
      throw new ClusterUnavailable(
        `${(error as Error).message}: the user's connections on this server were closed, those on other servers were not; retry`,
      );
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    // Bounded by ioredis's commandTimeout; shutdown has its own deadline on top.
    await this.link.send(() => this.run<Transition[]>('reverbDeregister', this.nodeId)).then(this.report, noop);
    this.link.close();
    this.command.disconnect();
    this.subscriber.disconnect();
    await this.local.close();
  }
}
