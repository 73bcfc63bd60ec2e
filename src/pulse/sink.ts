/** Where the recorder's counts go: Pulse's tables (storage.ts) or Pulse's Redis ingest stream (redis-ingest.ts). */
import type { Tally } from './counts.js';

export interface PulseSink {
  /** Where the counts go, for log lines: "MySQL/MariaDB 127.0.0.1:3306/laravel, table pulse_aggregates". */
  describe(): string;
  /** What answers there, for log lines: "the database", "Redis". */
  readonly peer: string;
  /** Writes the counts of `tallies` (`now` in seconds); rejects when some or all could not be written. */
  write(tallies: readonly Tally[], now: number): Promise<void>;
  close(): Promise<void>;
}

/** A write that failed after writing part of the counts: `unwritten` are the others. */
export class PartialWrite extends Error {
  constructor(
    readonly unwritten: Tally[],
    readonly reason: unknown,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}
