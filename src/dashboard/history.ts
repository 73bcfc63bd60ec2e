/**
 * The charts' data: every app's open connections and messages per second,
 * sampled every 10 seconds into a ring of one hour, so that a page opened
 * now shows the last hour at once. Counting a message is one addition on a
 * per-app record; the sampling timer does the rest.
 */
import { Ring } from './ring.js';

export const SAMPLE_SECONDS = 10;
const SAMPLES = 3600 / SAMPLE_SECONDS;

/** [unix ms at the end of the interval, connections, messages received per second, messages sent per second] */
export type Sample = [time: number, connections: number, received: number, sent: number];

/** The counts of one app since the last sample. */
export class AppTally {
  received = 0;
  sent = 0;
  readonly samples = new Ring<Sample>(SAMPLES);
}

export class History {
  private readonly tallies = new Map<string, AppTally>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Open connections of an app on this server, at sampling time. */
    private readonly connections: (appId: string) => number,
    /** The apps known now, so that an idle app gets zero samples too. */
    private readonly appIds: () => Iterable<string>,
    private readonly now: () => number = Date.now,
  ) {}

  tally(appId: string): AppTally {
    let tally = this.tallies.get(appId);
    if (!tally) this.tallies.set(appId, (tally = new AppTally()));
    return tally;
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), SAMPLE_SECONDS * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): void {
    const time = this.now();
    for (const appId of this.appIds()) this.tally(appId);
    for (const [appId, tally] of this.tallies) {
      const rate = (count: number) => Math.round((count / SAMPLE_SECONDS) * 100) / 100;
      tally.samples.push([time, this.connections(appId), rate(tally.received), rate(tally.sent)]);
      tally.received = 0;
      tally.sent = 0;
    }
  }

  samples(appId: string): Sample[] {
    return this.tallies.get(appId)?.samples.toArray() ?? [];
  }
}
