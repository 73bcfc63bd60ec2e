/**
 * Where pending webhook deliveries are kept outside this process, so that
 * another server can finish them if this one dies or stops before it could
 * (with scaling on: a Redis stream per server, src/cluster/webhook-stream.ts).
 * The dispatcher still delivers from memory; the journal is its backup.
 */
import type { WebhookEvent } from './types.js';

export interface JournalEntry {
  readonly app: string;
  readonly event: WebhookEvent;
  /** URLs of the app's targets that are owed the event. */
  readonly targets: readonly string[];
  /** A departure held back for Pusher's window: when the window ends (epoch ms). */
  readonly due?: number;
}

/** One kept entry. Both are best effort: when the journal cannot be written, delivery goes on from memory. */
export interface JournalRecord {
  /**
   * For a departure, at the window's end: whether it still stands (no arrival
   * cancelled it anywhere in the cluster). From then on the entry is kept as
   * a plain delivery, so that a server taking over never asks again.
   */
  readonly stands: () => Promise<boolean>;
  /** Delivered, failed for good, dropped or cancelled: forgotten. */
  readonly finished: () => void;
}

export interface WebhookJournal {
  record(entry: JournalEntry): JournalRecord;
  /** Where entries of servers that are gone are handed over, each once for the whole cluster. */
  resumeWith(resume: (entry: JournalEntry, record: JournalRecord) => void): void;
}
