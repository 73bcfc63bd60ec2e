/**
 * Laravel Pulse's Reverb "Messages" card, fed from this process as Reverb
 * feeds it from its own: every message a connection receives and every frame
 * sent to a connection (a broadcast once per recipient, as Reverb's
 * MessageSent) is counted per app, sampled as Pulse samples (sampling.ts); every
 * `pulse_ingest_interval` the counts are written the way Pulse's ingest
 * driver would: into `pulse_aggregates` as Pulse's DatabaseStorage does
 * (aggregate.ts, storage.ts), or onto Pulse's Redis ingest stream as its
 * RedisIngest does (redis-ingest.ts).
 *
 * Counting is an addition in memory, so WebSocket traffic never waits for the
 * database or Redis. A failed write is logged once (and its recovery once);
 * its counts are kept and written with the next write that succeeds, up to
 * MAX_KEPT_TALLIES, beyond which the oldest are dropped and the number of
 * dropped messages is told when writing works again.
 */
import type { PulseConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { ProtocolObserver } from '../protocol/observer.js';
import { PERIODS } from './aggregate.js';
import { MessageCounts, type Direction } from './counts.js';
import { PulseRedisIngest } from './redis-ingest.js';
import { sampled } from './sampling.js';
import { PartialWrite, type PulseSink } from './sink.js';
import { PulseTables } from './storage.js';

/** A refused connection to both ::1 and 127.0.0.1 is an AggregateError without a message. */
function reason(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return message || code || String(error);
}

export class PulseRecorder {
  private readonly counts = new MessageCounts();
  private readonly timer: NodeJS.Timeout;
  private readonly sink: PulseSink;
  private writing: Promise<void> | undefined;
  private failing = false;
  private dropped = 0;

  constructor(
    private readonly config: PulseConfig,
    private readonly logger: Logger,
  ) {
    this.sink = config.ingest.driver === 'redis' ? new PulseRedisIngest(config.ingest) : new PulseTables(config.ingest.database);
    this.timer = setInterval(() => void this.write(), config.ingestInterval * 1000);
    this.timer.unref();
  }

  /** Where the counts go, for log lines. */
  describe(): string {
    return `${this.sink.describe()}, every ${this.config.ingestInterval} s`;
  }

  /** The start-up line: where the counts go, their sampling, and where Pulse's settings were read. */
  startLine(): string {
    const { sampleRate, source } = this.config;
    const sampling = sampleRate < 1 ? `, ${Math.round(sampleRate * 10_000) / 100}% of messages` : '';
    return `Laravel Pulse: message counts to ${this.describe()}${sampling} (Pulse's settings: ${source ?? 'environment'})`;
  }

  observer(): Partial<ProtocolObserver> {
    return {
      messageReceived: (connection) => this.count(connection.app.id, 'received', 1),
      frameSent: (connection) => this.count(connection.app.id, 'sent', 1),
      broadcast: (appId, _channel, _frame, recipients) => this.count(appId, 'sent', recipients),
    };
  }

  private count(appId: string, direction: Direction, messages: number): void {
    const kept = sampled(messages, this.config.sampleRate);
    if (kept > 0) this.counts.add(appId, direction, kept);
  }

  /** One write at a time: a slow database delays the next write, never the counting. */
  private write(): Promise<void> {
    this.writing ??= this.writeCounts().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async writeCounts(): Promise<void> {
    const tallies = this.counts.take();
    if (tallies.length === 0) return;
    const now = Math.floor(Date.now() / 1000);
    try {
      await this.sink.write(tallies, now);
      if (this.failing) {
        this.failing = false;
        const dropped = this.dropped > 0 ? `; the counts of ${this.dropped} messages were dropped meanwhile` : '';
        this.dropped = 0;
        this.logger.info(`Laravel Pulse: writing message counts works again (${this.describe()})${dropped}.`);
      }
    } catch (error) {
      const unwritten = error instanceof PartialWrite ? error.unwritten : tallies;
      // Pulse would not store what is older than its longest period.
      this.dropped += this.counts.keep(unwritten, now - PERIODS[PERIODS.length - 1] * 60);
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          `Laravel Pulse: cannot write message counts (${this.describe()}): ${reason(error instanceof PartialWrite ? error.reason : error)}; they are kept and written when ${this.sink.peer} answers again.`,
        );
      }
    }
  }

  /** Writes what is left (within `timeoutMs`) and closes the connection. */
  async close(timeoutMs: number): Promise<void> {
    clearInterval(this.timer);
    const last = (async () => {
      await this.writing;
      await this.write();
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([last, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    await this.sink.close();
  }
}
