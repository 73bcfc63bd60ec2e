/**
 * The charts' data: every app's open connections and messages per second,
 * sampled every 10 seconds into a ring of one hour, so that a page opened
 * now shows the last hour at once. Counting a message is one addition on a
 * per-app record; the sampling timer does the rest. Samples are taken at
 * whole multiples of 10 s of the clock, so that those of the servers of a
 * cluster line up and add up (relay.ts). An idle moment (no connection, no
 * message) is not stored but given as zeros, so that a server with many
 * idle apps (a database provider's) keeps next to nothing for them.
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
  /** The first and the last sampling time, for the zeros of idle moments. */
  private firstTime: number | undefined;
  private lastTime: number | undefined;
  /** Called with every new sample (the relay sends them to watching servers). */
  onSample: ((appId: string, sample: Sample) => void) | undefined;

  constructor(
    /** Open connections of an app on this server, at sampling time. */
    private readonly connections: (appId: string) => number,
    /** The apps loaded now: those with connections are sampled even without traffic. */
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
    // The boundary the timer was set for, even when it fires late; never the same one twice.
    const time = Math.max(Math.floor(this.now() / period) * period, (this.lastTime ?? -Infinity) + period);
    this.firstTime ??= time;
    this.lastTime = time;
    for (const appId of this.appIds()) if (this.connections(appId) > 0) this.tally(appId);
    for (const [appId, tally] of this.tallies) {
      const connections = this.connections(appId);
      if (connections === 0 && tally.received === 0 && tally.sent === 0) continue;
      const rate = (count: number) => Math.round((count / SAMPLE_SECONDS) * 100) / 100;
      const sample: Sample = [time, connections, rate(tally.received), rate(tally.sent)];
      tally.samples.push(sample);
      tally.received = 0;
      tally.sent = 0;
      this.onSample?.(appId, sample);
    }
  }

  /** The app's samples of the last hour, oldest first, idle moments as zeros. */
  samples(appId: string): Sample[] {
    if (this.firstTime === undefined || this.lastTime === undefined) return [];
    const period = SAMPLE_SECONDS * 1000;
    const stored = new Map((this.tallies.get(appId)?.samples.toArray() ?? []).map((sample) => [sample[0], sample]));
    const list: Sample[] = [];
    for (let time = Math.max(this.firstTime, this.lastTime - (SAMPLES - 1) * period); time <= this.lastTime; time += period) {
      list.push(stored.get(time) ?? [time, 0, 0, 0]);
    }
    return list;
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
