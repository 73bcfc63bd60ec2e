/**
 * What Pulse's DatabaseStorage::preaggregate() makes of Reverb's message
 * entries (`reverb_message:sent` / `reverb_message:received`, key = the app
 * id, `->onlyBuckets()->count()`): for each of Pulse's periods, one `count`
 * row per bucket, type and app. Only-bucket entries never reach pulse_entries.
 */
import type { Tally } from './counts.js';

/** Pulse's periods in minutes (1 hour, 6 hours, 24 hours, 7 days): DatabaseStorage::periods(). */
export const PERIODS = [60, 360, 1440, 10_080] as const;

export const TYPES = { sent: 'reverb_message:sent', received: 'reverb_message:received' } as const;

export interface AggregateRow {
  readonly bucket: number;
  readonly period: number;
  readonly type: string;
  readonly aggregate: 'count';
  readonly key: string;
  value: number;
}

/**
 * `now` is the write time in seconds: like Pulse, an entry older than a
 * period's span is left out of that period (it would be trimmed).
 */
export function aggregateCounts(tallies: readonly Tally[], now: number): AggregateRow[] {
  const rows = new Map<string, AggregateRow>();
  for (const tally of tallies) {
    for (const direction of ['sent', 'received'] as const) {
      const count = tally[direction];
      if (count === 0) continue;
      const type = TYPES[direction];
      for (const period of PERIODS) {
        if (tally.second < now - period * 60) continue;
        // Pulse's bucket: (int) (floor($timestamp / $period) * $period), the period's minutes used as seconds.
        const bucket = Math.floor(tally.second / period) * period;
        const id = `${type}:${period}:${bucket}:${tally.appId}`;
        const row = rows.get(id);
        if (row) row.value += count;
        else rows.set(id, { bucket, period, type, aggregate: 'count', key: tally.appId, value: count });
      }
    }
  }
  return [...rows.values()];
}
