/**
 * Stops accepting connections while the process is out of file descriptors,
 * and starts again once some are free.
 *
 * At the open-file limit accept() fails with EMFILE and the connection stays
 * in the listen backlog. uWS retries at once, forever: 100 % CPU, and new
 * clients hang. Node accepts and drops it. Neither says anything. The guard
 * notices by opening one descriptor every PROBE_MS: when that fails it closes
 * the listener (the kernel then refuses new clients at once), gives the rest
 * of the process (Redis, webhooks) the reserve of descriptors it held back,
 * and warns. Established connections are not affected. It listens again when
 * twice the reserve can be opened, so that it does not flap.
 *
 * A probe rather than a count of sockets: JavaScript does not see every
 * descriptor (uWS reports an HTTP connection only once a request arrives; an
 * idle one holds its descriptor for up to 10 s), and counting /proc/self/fd
 * takes about 20 ms at 19 000 descriptors.
 */
import { closeSync, openSync } from 'node:fs';
import { readOpenFileLimit } from '../ops/open-files.js';
import type { TransportLogger } from './types.js';

const PROBE_MS = 250;
/** Warnings about the limit, at most one per this period however often it is reached. */
const WARNING_PERIOD_MS = 60_000;

/** The listener the guard switches off and on. */
export interface Listener {
  pause(): void;
  /** Listens again; rejects when that fails (the guard tries again later). */
  resume(): Promise<void>;
}

/** Opens `count` descriptors, or none (all closed again) when the process is at its limit. */
function openDescriptors(count: number): number[] | undefined {
  const opened: number[] = [];
  try {
    while (opened.length < count) opened.push(openSync('/dev/null', 'r'));
    return opened;
  } catch (error) {
    closeDescriptors(opened);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') return undefined;
    throw error;
  }
}

function closeDescriptors(descriptors: number[]): void {
  for (const fd of descriptors.splice(0)) closeSync(fd);
}

/** Descriptors held back for the rest of the process: 32, less under a small limit. */
function reserveSize(): number {
  const limit = readOpenFileLimit()?.soft ?? Infinity;
  return Math.max(4, Math.min(32, Math.floor(limit / 16)));
}

export class DescriptorGuard {
  private readonly reserve: number[];
  private readonly timer: NodeJS.Timeout;
  private paused = false;
  private stopped = false;
  private checking = false;
  private lastWarning = -Infinity;
  /** Whether this pause was announced (then its end is too). */
  private announced = false;

  private constructor(
    private readonly listener: Listener,
    private readonly logger: TransportLogger | undefined,
    private readonly size: number,
  ) {
    this.reserve = openDescriptors(size) ?? [];
    this.timer = setInterval(() => void this.check(), PROBE_MS).unref();
  }

  /** A running guard, or none where it cannot probe: Windows (no per-process limit to reach), no /dev/null. */
  static start(listener: Listener, logger: TransportLogger | undefined): DescriptorGuard | undefined {
    if (process.platform === 'win32') return undefined;
    try {
      return new DescriptorGuard(listener, logger, reserveSize());
    } catch {
      return undefined;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    closeDescriptors(this.reserve);
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      if (this.paused) await this.tryResume();
      else this.probe();
    } catch (error) {
      // Opening /dev/null failed for another reason than the limit: probing cannot work here.
      this.stop();
      this.logger?.warn(`Not watching the open-file limit: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  private probe(): void {
    const probe = openDescriptors(1);
    if (probe) {
      closeDescriptors(probe);
      return;
    }
    this.listener.pause();
    this.paused = true;
    closeDescriptors(this.reserve);
    const limit = readOpenFileLimit()?.soft;
    this.announced = this.warn(
      `Out of file descriptors${limit ? ` (open-file limit ${limit})` : ''}: new connections are refused until some close; ` +
        'open connections are still served. Raise the limit, see "Open files" in docs/deployment.md',
    );
  }

  private async tryResume(): Promise<void> {
    const free = openDescriptors(2 * this.size);
    if (!free) return;
    this.reserve.push(...free.splice(0, this.size));
    closeDescriptors(free);
    try {
      await this.listener.resume();
    } catch (error) {
      closeDescriptors(this.reserve);
      this.warn(`Cannot listen again after running out of file descriptors: ${(error as Error).message}`);
      return;
    }
    // Shut down while listening again: switch it off again.
    if (this.stopped) {
      this.listener.pause();
      closeDescriptors(this.reserve);
      return;
    }
    this.paused = false;
    if (this.announced) this.logger?.info('File descriptors are available again: accepting new connections');
  }

  /** Logs a warning unless one was logged within WARNING_PERIOD_MS; whether it did. */
  private warn(message: string): boolean {
    const now = Date.now();
    if (now - this.lastWarning < WARNING_PERIOD_MS) return false;
    this.lastWarning = now;
    this.logger?.warn(message);
    return true;
  }
}
