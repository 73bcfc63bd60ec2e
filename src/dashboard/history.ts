/**
 * The charts' data: every app's open connections and messages per second,
 * sampled every 10 seconds into a ring of one hour, so that a page opened
 * now shows the last hour at once. Counting a message is one addition on a
 * per-app record; the sampling timer does the rest. Samples are taken at
 * whole multiples of 10 s of the clock, so that those of the servers of a
 * cluster line up and add up (relay.ts).
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
  private running = false;
  /** Called with every new sample (the relay sends them to watching servers). */
  onSample: ((appId: string, sample: Sample) => void) | undefined;

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
    this.running = true;
    this.schedule();
  }

  /** The next sample at the next whole multiple of the interval (no drift, and aligned across servers). */
  private schedule(): void {
    if (!this.running) return;
    const period = SAMPLE_SECONDS * 1000;
    this.timer = setTimeout(() => {
      this.sample();
      this.schedule();
    }, period - (this.now() % period));
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  sample(): void {
    const period = SAMPLE_SECONDS * 1000;
    const time = Math.round(this.now() / period) * period;
    for (const appId of this.appIds()) this.tally(appId);
    for (const [appId, tally] of this.tallies) {
      const rate = (count: number) => Math.round((count / SAMPLE_SECONDS) * 100) / 100;
      const sample: Sample = [time, this.connections(appId), rate(tally.received), rate(tally.sent)];
      tally.samples.push(sample);
      tally.received = 0;
      tally.sent = 0;
      this.onSample?.(appId, sample);
    }
  }

  samples(appId: string): Sample[] {
    return this.tallies.get(appId)?.samples.toArray() ?? [];
  }
}

/** Samples of several servers added up per point in time, oldest first. */
export function mergeSamples(lists: readonly (readonly Sample[])[]): Sample[] {
  if (lists.length === 1) return [...lists[0]!];
  const byTime = new Map<number, Sample>();
  for (const list of lists) {
    for (const [time, connections, received, sent] of list) {
      const sum = byTime.get(time);
      if (sum) byTime.set(time, [time, sum[1] + connections, round(sum[2] + received), round(sum[3] + sent)]);
      else byTime.set(time, [time, connections, received, sent]);
    }
  }
  return [...byTime.values()].sort((a, b) => a[0] - b[0]);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
