/**
 * Rate limit for log lines that clients can cause (slow consumers, messages
 * that make a handler fail): a client repeating its mistake must not be able
 * to fill the disk or spend the server's CPU on formatting log lines. Per
 * kind, the first `burst` lines of each window are written; the rest are
 * counted and reported with the next line written.
 */
export class LogLimiter {
  private readonly windows = new Map<string, { start: number; written: number; suppressed: number }>();

  constructor(
    private readonly burst = 10,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Calls `write` with the number of lines suppressed since the last one
   * written, or does nothing when this kind is over its budget.
   */
  log(kind: string, write: (suppressed: number) => void): void {
    const now = this.now();
    let window = this.windows.get(kind);
    if (!window) this.windows.set(kind, (window = { start: now, written: 0, suppressed: 0 }));
    if (now - window.start >= this.windowMs) {
      window.start = now;
      window.written = 0;
    }
    if (window.written >= this.burst) {
      window.suppressed++;
      return;
    }
    window.written++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    write(suppressed);
  }
}

/** Log fields with `suppressed` added only when lines were left out, so ordinary lines stay as they were. */
export function withSuppressed<T extends object>(fields: T, suppressed: number): T & { suppressed?: number } {
  return suppressed > 0 ? { ...fields, suppressed } : fields;
}
