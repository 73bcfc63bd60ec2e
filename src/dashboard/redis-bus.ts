/**
 * The dashboard's Redis pub/sub, on two connections of its own (so that the
 * cluster's connections and their topics stay as they are): topics below the
 * scaling namespace (`<channel>:dashboard:...`), subscribed again whenever
 * the connection comes back. A publish while Redis is away is dropped.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ScalingConfig } from '../config/types.js';
import { createRedis } from '../cluster/redis-connection.js';
import type { RelayBus } from './relay.js';

const noop = (): void => undefined;

export class RedisBus implements RelayBus {
  readonly nodeId = randomBytes(8).toString('hex');
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private readonly handlers = new Map<string, (message: string) => void>();
  private readonly ns: string;

  constructor(scaling: ScalingConfig) {
    this.ns = scaling.channel;
    this.subscriber = createRedis(scaling.server, `reverb-ts:${this.nodeId}:dashboard-subscriber`);
    this.publisher = createRedis(scaling.server, `reverb-ts:${this.nodeId}:dashboard-publisher`);
    this.subscriber.on('message', (topic: string, message: string) => this.handlers.get(topic)?.(message));
    this.subscriber.on('ready', () => {
      if (this.handlers.size > 0) this.subscriber.subscribe(...this.handlers.keys()).catch(noop);
    });
    this.subscriber.on('error', noop);
    this.publisher.on('error', noop);
  }

  async start(): Promise<void> {
    // Down now: ioredis keeps reconnecting, and the topics are subscribed once it is back.
    await Promise.allSettled([this.subscriber.connect(), this.publisher.connect()]);
  }

  listen(name: string, handler: (message: string) => void): () => void {
    const topic = `${this.ns}:${name}`;
    this.handlers.set(topic, handler);
    if (this.subscriber.status === 'ready') this.subscriber.subscribe(topic).catch(noop);
    return () => {
      if (this.handlers.get(topic) !== handler) return;
      this.handlers.delete(topic);
      if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(topic).catch(noop);
    };
  }

  announce(name: string, message: string): void {
    if (this.publisher.status === 'ready') this.publisher.publish(`${this.ns}:${name}`, message).catch(noop);
  }

  close(): void {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}
