/** What the bench reads about a server process from /proc (Linux): memory, CPU time, open handles. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** User + system CPU seconds used so far (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Open file descriptors (sockets included). */
export function openHandles(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A snapshot for before/after comparisons; undefined fields when the pid is unknown. */
export function sample(pid) {
  if (!pid) return { at: Date.now() };
  return { at: Date.now(), rss: rssBytes(pid), cpu: cpuSeconds(pid), handles: openHandles(pid) };
}

/**
 * Samples the process every `everyMs` until stopped, for the peaks a
 * before/after pair would miss; `stop()` returns { rss, handles } at their
 * highest (NaN when the pid is unknown).
 */
export function peakSampler(pid, everyMs = 200) {
  const peak = { rss: NaN, handles: NaN };
  const take = () => {
    if (!pid) return;
    const now = sample(pid);
    peak.rss = Number.isNaN(peak.rss) ? now.rss : Math.max(peak.rss, now.rss);
    peak.handles = Number.isNaN(peak.handles) ? now.handles : Math.max(peak.handles, now.handles);
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    return { ...peak };
  };
}
