/**
 * Whether Redis can be asked right now, and a deadline on every answer we
 * wait for.
 *
 * Redis can be unavailable in two ways: the connection is down (ioredis says
 * so and reconnects), or the connection is up but Redis does not answer (a
 * paused or overloaded Redis, a fork for a snapshot, a failover in progress, a
 * network black hole). The second is a stall: commands sent meanwhile would
 * wait and pile up in memory until Redis answers. A stall is recognised when
 * a command waited on misses the deadline, or when no reply at all arrived for
 * a deadline while commands were outstanding; from then on nothing more is
 * sent (callers answer locally or refuse) and a single PING probes until Redis
 * answers again.
 */
import type { Redis } from 'ioredis';
import { ClusterUnavailable } from '../protocol/cluster.js';

/**
 * How long an answer is waited for. A healthy Redis answers in well under a
 * millisecond, so a second means it is not answering; HTTP API requests and
 * subscribes are answered (or refused) within about this time.
 */
export const DEADLINE_MS = 1000;

/** Pause before probing again after a probe failed (a probe that times out has already waited 5 s). */
const PROBE_RETRY_MS = 250;

class DeadlineExceeded extends Error {}

/** The promise's outcome, or DeadlineExceeded after `ms`; a late rejection of `promise` is still handled. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceeded()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export interface RedisLinkEvents {
  /** Redis stopped answering on an open connection. */
  stalled(): void;
  /** Redis answers again after a stall (not called after a reconnect: ioredis's `ready` says that). */
  answering(): void;
}

export class RedisLink {
  private connected = false;
  private stalled = false;
  /**
   * Commands sent and not settled yet, and when the latest one settled (or
   * the first of them was sent). Every command settles within ioredis's
   * commandTimeout, and on a close ioredis rejects them all, so the count
   * needs no resetting.
   */
  private outstanding = 0;
  private lastProgress = 0;
  private readonly watchdog: NodeJS.Timeout;
  private probeRetry: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly events: RedisLinkEvents,
  ) {
    // Fire-and-forget writes are not waited on one by one: this catches a stall they run into.
    this.watchdog = setInterval(() => this.checkProgress(), DEADLINE_MS / 4).unref();
  }

  get available(): boolean {
    return this.connected && !this.stalled;
  }

  /** ioredis reports the connection ready (first connect or reconnect): a fresh connection is not stalled. */
  up(): void {
    this.connected = true;
    this.endStall();
  }

  /** ioredis reports the connection closed (it rejects what was outstanding itself). */
  down(): void {
    this.connected = false;
    this.endStall();
  }

  /**
   * Sends a command when Redis is available and waits at most DEADLINE_MS for
   * its answer. Every failure is a ClusterUnavailable: at once when Redis is
   * known to be unavailable, after the deadline when it does not answer
   * (which also starts the stall), or Redis's own error.
   */
  async ask<T>(command: () => Promise<T>): Promise<T> {
    if (!this.available) throw new ClusterUnavailable(this.connected ? 'Redis is not answering' : 'Redis is unreachable');
    try {
      return await withDeadline(this.track(command()), DEADLINE_MS);
    } catch (error) {
      if (error instanceof DeadlineExceeded) {
        this.stall();
        throw new ClusterUnavailable(`Redis did not answer within ${DEADLINE_MS} ms`);
      }
      throw new ClusterUnavailable(`Redis failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Sends a command without a deadline of its own: fire-and-forget writes (no
   * timer per publish), and re-registration, whose script may legitimately
   * take longer. ioredis's commandTimeout bounds it, and the watchdog counts
   * it all the same.
   */
  send<T>(command: () => Promise<T>): Promise<T> {
    if (!this.available) return Promise.reject(new ClusterUnavailable('Redis is unavailable'));
    try {
      return this.track(command());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    if (this.outstanding++ === 0) this.lastProgress = Date.now();
    promise.then(this.answered, this.answered);
    return promise;
  }

  private readonly answered = (): void => {
    this.lastProgress = Date.now();
    this.outstanding--;
  };

  private checkProgress(): void {
    if (this.available && this.outstanding > 0 && Date.now() - this.lastProgress > DEADLINE_MS) this.stall();
  }

  private stall(): void {
    if (this.stalled || !this.connected) return;
    this.stalled = true;
    this.events.stalled();
    this.probe();
  }

  /**
   * One PING at a time until Redis answers. Each waits up to ioredis's
   * commandTimeout; a failed one is retried after a pause, never in a tight loop.
   */
  private probe(): void {
    this.track(this.redis.ping()).then(
      () => {
        if (!this.stalled) return;
        this.stalled = false;
        this.events.answering();
      },
      () => {
        if (this.stalled) this.probeRetry = setTimeout(() => this.probe(), PROBE_RETRY_MS);
      },
    );
  }

  private endStall(): void {
    this.stalled = false;
    clearTimeout(this.probeRetry);
  }

  close(): void {
    clearInterval(this.watchdog);
    this.connected = false;
    this.endStall();
  }
}
