/**
 * The open-file limit caps how many connections one server can hold (each
 * socket is a file descriptor). Node has no setrlimit, so the soft limit is
 * raised to the hard limit with util-linux `prlimit` on this process. Node
 * itself usually raised it already at start-up; this covers the cases where
 * it could not, and reports the effective limit either way.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';

export interface OpenFileLimit {
  /** The limit that applies; Infinity for "unlimited". */
  readonly soft: number;
  /** The ceiling an unprivileged process may raise the soft limit to. */
  readonly hard: number;
}

function limitValue(text: string): number {
  return text === 'unlimited' ? Infinity : Number(text);
}

/** Reads "Max open files" from the text of /proc/<pid>/limits. */
export function parseOpenFileLimit(limits: string): OpenFileLimit | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  return match ? { soft: limitValue(match[1]!), hard: limitValue(match[2]!) } : undefined;
}

/** The limit of a process; undefined where there is no /proc (macOS, Windows). */
export function readOpenFileLimit(pid: number = process.pid): OpenFileLimit | undefined {
  try {
    return parseOpenFileLimit(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface RaiseResult {
  readonly limit: OpenFileLimit | undefined;
  /** Why the soft limit stays below the hard limit, when it does. */
  readonly problem?: string;
}

/** Raises the soft limit of `pid` to its hard limit (the kernel's nr_open when the hard limit is unlimited). */
export function raiseOpenFileLimit(pid: number = process.pid): RaiseResult {
  const before = readOpenFileLimit(pid);
  if (!before || before.soft >= before.hard) return { limit: before };
  const target = Number.isFinite(before.hard) ? String(before.hard) : readFileSync('/proc/sys/fs/nr_open', 'utf8').trim();
  const result = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${before.hard === Infinity ? 'unlimited' : target}`], {
    encoding: 'utf8',
    timeout: 5000,
  });
  const limit = readOpenFileLimit(pid);
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    return { limit, problem: missing ? 'prlimit (util-linux) is not installed' : `prlimit failed: ${result.error.message}` };
  }
  if (result.status !== 0) return { limit, problem: `prlimit failed: ${result.stderr.trim() || `exit code ${result.status}`}` };
  return { limit };
}

/**
 * Connections the configuration allows at most: the sum of the apps'
 * max_connections, or undefined when any app is unlimited.
 */
export function configuredCapacity(maxConnections: readonly (number | null)[]): number | undefined {
  if (maxConnections.some((limit) => limit === null)) return undefined;
  return maxConnections.reduce<number>((sum, limit) => sum + limit!, 0);
}

function show(limit: number): string {
  return Number.isFinite(limit) ? String(limit) : 'unlimited';
}

/** Start-up step: raise the limit, print it with --debug, warn when it is below the configured capacity. */
export function checkOpenFileLimit(config: Config, logger: Logger): void {
  const { limit, problem } = raiseOpenFileLimit();
  if (!limit) {
    logger.debug('Open-file limit: unknown on this platform (no /proc)');
    return;
  }
  if (problem) logger.warn(`Cannot raise the open-file limit to its hard limit ${show(limit.hard)}: ${problem}`);
  logger.debug(`Open-file limit: ${show(limit.soft)} (hard limit ${show(limit.hard)})`);
  const capacity = configuredCapacity(config.apps.map((app) => app.maxConnections));
  if (capacity !== undefined && limit.soft < capacity) {
    logger.warn(
      `The open-file limit (${show(limit.soft)}) is below the configured capacity of ${capacity} connections (sum of the apps' max_connections): raise it, see "Open files" in docs/deployment.md`,
    );
  }
}
