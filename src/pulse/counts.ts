/**
 * Messages counted per app and second, between two writes. Reverb's recorder
 * stamps every message with the current second, and Pulse buckets by that
 * stamp; a tally per second keeps exactly that information at the cost of
 * one small object per app and second, instead of one per message.
 */
export interface Tally {
  /** Unix time, in whole seconds (CarbonImmutable::now()->getTimestamp()). */
  readonly second: number;
  readonly appId: string;
  sent: number;
  received: number;
}

export type Direction = 'sent' | 'received';

/** Tallies kept across failed writes: about a day of steady traffic for one app. */
export const MAX_KEPT_TALLIES = 100_000;

export class MessageCounts {
  private tallies: Tally[] = [];
  /** The current second's tallies by app, so that counting is a lookup and an addition. */
  private current = new Map<string, Tally>();
  private second = -1;

  constructor(private readonly now: () => number = Date.now) {}

  add(appId: string, direction: Direction, count: number): void {
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.current = new Map();
    }
    let tally = this.current.get(appId);
    if (!tally) {
      tally = { second, appId, sent: 0, received: 0 };
      this.current.set(appId, tally);
      this.tallies.push(tally);
    }
    tally[direction] += count;
  }

  /** Everything counted so far; counting starts afresh. */
  take(): Tally[] {
    const taken = this.tallies;
    this.tallies = [];
    this.current = new Map();
    this.second = -1;
    return taken;
  }

  /**
   * Gives back tallies that could not be written, ahead of the newer ones.
   * Returns how many messages were dropped: those older than `oldest` (Pulse
   * would not store them) and, beyond MAX_KEPT_TALLIES, the oldest.
   */
  keep(tallies: readonly Tally[], oldest: number): number {
    const all = [...tallies, ...this.tallies];
    const cut = Math.max(all.length - MAX_KEPT_TALLIES, 0);
    let dropped = 0;
    const kept: Tally[] = [];
    all.forEach((tally, index) => {
      if (index < cut || tally.second < oldest) dropped += tally.sent + tally.received;
      else kept.push(tally);
    });
    this.tallies = kept;
    return dropped;
  }
}
