#!/usr/bin/env node
/**
 * `npm test`: the unit and end-to-end suites on the ws transport, then the
 * end-to-end suite again on uWebSockets.js (but for the files marked
 * transport-independent) when it loads natively here (else
 * says why it was skipped). The e2e helpers pass REVERB_TRANSPORT on to the
 * servers they start. File arguments narrow the run: `npm test -- test/e2e/x.test.ts`.
 * Expects a built dist/ (the pretest script).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const suite = (dir) =>
  readdirSync(join(root, dir))
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => join(dir, name));

const chosen = process.argv.slice(2);
const unit = chosen.length ? chosen.filter((file) => !file.includes('e2e')) : suite('test/unit');
const e2e = chosen.length ? chosen.filter((file) => file.includes('e2e')) : suite('test/e2e');
const scratch = mkdtempSync(join(tmpdir(), 'reverb-test-run-'));
const totals = { pass: 0, fail: 0, skipped: 0 };

/** Runs node's test runner; the spec report goes to the terminal, a TAP copy is counted. */
function run(label, transport, files) {
  if (files.length === 0) return true;
  console.log(`\n# ${label} (REVERB_TRANSPORT=${transport})\n`);
  const tap = join(scratch, `${transport}.tap`);
  const result = spawnSync(
    process.execPath,
    [
      '--import', 'tsx', '--test', '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, REVERB_TRANSPORT: transport } },
  );
  const report = readFileSync(tap, 'utf8');
  for (const key of Object.keys(totals)) {
    totals[key] += Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
  }
  return result.status === 0;
}

/**
 * E2e files whose subject does not depend on the WebSocket library (the CLI,
 * packaging, Laravel config and restarts, Pulse storage, the cluster's
 * webhooks and Redis metrics) say so in their header and run in the ws pass
 * only, which keeps `npm test` within CI's time budget.
 */
const transportIndependent = (file) => /^ \* Transport-independent:/m.test(readFileSync(join(root, file), 'utf8'));

let ok = run('unit + e2e', 'ws', [...unit, ...e2e]);
const { uwsAvailability } = await import('../dist/transport/uws-loader.js');
const uws = uwsAvailability();
if (uws.available) ok = run('e2e', 'uws', e2e.filter((file) => !transportIndependent(file))) && ok;
else if (e2e.length) console.log(`\n# e2e on the uws transport skipped: uWebSockets.js is unavailable: ${uws.reason}`);

rmSync(scratch, { recursive: true, force: true });
console.log(`\nall runs: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(ok ? 0 : 1);
