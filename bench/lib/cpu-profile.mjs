/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and lists where the
 * time went: the functions with the most self time, and the same time summed
 * per source file, so that a profile-guided pass can start from a table
 * instead of a flame chart. Time spent inside a native call (a uWS `send`,
 * the kernel's write under it) counts as the self time of the JavaScript
 * function that made the call, or of "(program)" when no JavaScript was on
 * the stack.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Where a function lives, short: `src/protocol/server.ts:120` or `node:net` or `(native)`. */
function place({ url, lineNumber }) {
  if (!url) return '';
  const path = url.startsWith('file://') ? relative(ROOT, new URL(url).pathname) : url;
  return `${path}:${lineNumber + 1}`;
}

function fileOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const path = relative(ROOT, new URL(url, 'file:///').pathname);
  // Dependencies are summed per package: node_modules/<name> or node_modules/@scope/name.
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return packageMatch ? packageMatch[1] : path;
}

/** Self milliseconds per node id: each sample lasts until the next one. */
function selfTimes(profile) {
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const ms = (timeDeltas[i + 1] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + ms);
  }
  return self;
}

function top(map, count) {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/** The summary of one profile: { totalMs, idleMs, functions: [[name, ms]], files: [[file, ms]] }. */
export function summarizeProfile(profile, count = 15) {
  const self = selfTimes(profile);
  const functions = new Map();
  const files = new Map();
  let totalMs = 0;
  let idleMs = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (!ms) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    totalMs += ms;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${place(node.callFrame)}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const file = fileOf(node.callFrame);
    files.set(file, (files.get(file) ?? 0) + ms);
  }
  return { totalMs, idleMs, functions: top(functions, count), files: top(files, count) };
}

/** Markdown for every `.cpuprofile` in `directory` (one per process that ran with --cpu-prof-dir). */
export function profileReport(directory, count = 15) {
  const files = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
  return files
    .map((name) => {
      const summary = summarizeProfile(JSON.parse(readFileSync(join(directory, name), 'utf8')), count);
      const share = (ms) => `${((100 * ms) / summary.totalMs).toFixed(1)} %`;
      const rows = (entries) => entries.map(([label, ms]) => `| ${label.replaceAll('|', '\\|')} | ${ms.toFixed(0)} | ${share(ms)} |`).join('\n');
      return [
        `${join(directory, name)}: ${(summary.totalMs / 1000).toFixed(2)} s on the CPU (${(summary.idleMs / 1000).toFixed(2)} s idle)`,
        '',
        '| function (self time) | ms | share |\n| --- | ---: | ---: |',
        rows(summary.functions),
        '',
        '| file or package (self time) | ms | share |\n| --- | ---: | ---: |',
        rows(summary.files),
      ].join('\n');
    })
    .join('\n\n');
}

// `node bench/lib/cpu-profile.mjs DIR [COUNT]`: the report for profiles taken by hand.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(profileReport(process.argv[2], Number(process.argv[3] ?? 15)));
}
