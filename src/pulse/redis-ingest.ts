/**
 * Pulse's Redis ingest (laravel/pulse's RedisIngest), for Reverb's message
 * entries: what Reverb's server does with PULSE_INGEST_DRIVER=redis, so that
 * `php artisan pulse:work` digests them into Pulse's tables.
 *
 * - One stream entry per recorded message, as Pulse's ingest() XADDs one per
 *   Entry: `XADD <prefix>laravel:pulse:ingest * data <serialize($entry)>`, the
 *   entry being `new Entry($second, 'reverb_message:sent'|'…received', $appId)`
 *   with `->onlyBuckets()->count()` (php-serialize.ts). Pulse's storage counts
 *   one per entry, so they cannot be merged.
 * - Pipelined, 1000 commands at a time, once per ingest interval.
 * - After an ingest, with Pulse's odds (pulse.ingest.trim.lottery), the
 *   stream is trimmed as RedisIngest::trim() does: `XTRIM MAXLEN ~ keep` for
 *   a count, `XTRIM MINID ~ <now - keep in ms>` for an interval.
 */
import type { Redis } from 'ioredis';
import { createRedis } from '../cluster/redis-connection.js';
import type { PulseIngest } from '../config/pulse.js';
import { TYPES } from './aggregate.js';
import type { Tally } from './counts.js';
import { serializeCountEntry } from './php-serialize.js';
import { PartialWrite, type PulseSink } from './sink.js';

type RedisIngestConfig = Extract<PulseIngest, { driver: 'redis' }>;

/** Commands per pipeline round trip. */
const CHUNK = 1000;

const DIRECTIONS = ['sent', 'received'] as const;

/** One XADD: which tally and direction its entry counts. */
interface Queued {
  readonly tally: number;
  readonly direction: (typeof DIRECTIONS)[number];
}

export class PulseRedisIngest implements PulseSink {
  readonly peer = 'Redis';
  private readonly redis: Redis;
  private lastError: string | undefined;

  constructor(
    private readonly config: RedisIngestConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.redis = createRedis({ ...config.redis, timeout: 0 }, 'reverb-ts:pulse');
    // Reconnects by itself; a write meanwhile fails at once (no offline queue) and says why.
    this.redis.on('error', (error: Error) => (this.lastError = error.message || (error as { code?: string }).code));
    this.redis.on('ready', () => (this.lastError = undefined));
    this.redis.connect().catch(() => undefined);
  }

  describe(): string {
    const { url, host, port, database } = this.config.redis;
    const where = url ? url.replace(/\/\/[^@/]*@/, '//') : `${host}:${port}/${database}`;
    return `Redis ${where}, stream ${this.config.stream}`;
  }

  async write(tallies: readonly Tally[]): Promise<void> {
    if (this.redis.status !== 'ready') throw new Error(this.lastError ?? `the connection is ${this.redis.status}`);
    const unwritten = tallies.map((tally) => ({ ...tally, sent: 0, received: 0 }));
    let failure: unknown;
    let queued: Queued[] = [];
    let pipeline = this.redis.pipeline();
    const flush = async () => {
      const batch = queued;
      queued = [];
      const sending = pipeline;
      pipeline = this.redis.pipeline();
      let results: [Error | null, unknown][] | null = null;
      if (failure === undefined) {
        try {
          results = await sending.exec();
        } catch (error) {
          failure = error;
        }
      }
      batch.forEach((item, index) => {
        const error = results ? results[index]![0] : failure;
        if (error === null) return;
        failure ??= error;
        unwritten[item.tally]![item.direction]++;
      });
    };
    for (const [index, tally] of tallies.entries()) {
      for (const direction of DIRECTIONS) {
        if (tally[direction] === 0) continue;
        const data = serializeCountEntry(tally.second, TYPES[direction], tally.appId);
        for (let n = 0; n < tally[direction]; n++) {
          pipeline.xadd(this.config.stream, '*', 'data', data);
          queued.push({ tally: index, direction });
          if (queued.length === CHUNK) await flush();
        }
      }
    }
    if (queued.length > 0) await flush();
    if (failure !== undefined) throw new PartialWrite(unwritten.filter((tally) => tally.sent + tally.received > 0), failure);
    await this.trim();
  }

  /** Pulse's Lottery::odds(chances, outOf) of trimming, then RedisIngest::trim(); a failed trim is ignored, as Pulse rescues it. */
  private async trim(): Promise<void> {
    const [chances, outOf] = this.config.trimLottery;
    if (Math.floor(this.random() * outOf) + 1 > chances) return;
    const { trim, stream } = this.config;
    const trimming = 'maxLength' in trim ? this.redis.xtrim(stream, 'MAXLEN', '~', trim.maxLength) : this.redis.xtrim(stream, 'MINID', '~', Date.now() - trim.keepMs);
    await trimming.catch(() => undefined);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
