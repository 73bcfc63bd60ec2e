/**
 * Which uWebSockets.js `auto` uses: the project's own install (an official
 * release, or a registry build under that name, for Node versions the bundled
 * republish lacks) before reverb-ts's optional dependency, and why a build is
 * passed over — in particular a binary that needs a newer glibc than the
 * system's, which is what official releases hit on older distributions. The
 * project's package here has the official layout (binaries in its root) and
 * this machine's binary, copied from the bundled package: as it is, and with
 * its glibc requirement raised to a version no system has.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { startServer } from '../helpers/server.js';
import { uwsAvailability } from '../../src/transport/uws-loader.js';

const FILE = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
const BUNDLED = join(createRequire(import.meta.url).resolve('uWebSockets.js'), '../../binaries', FILE);
/** A glibc version the bundled binary needs (an ELF version-requirement string), as long as the one put in its place. */
const GLIBC_NEED = /GLIBC_2\.\d\d(?![.\d])/;
const UNKNOWN_GLIBC = 'GLIBC_2.99';
const UNSUPPORTED = (() => {
  const bundled = uwsAvailability();
  if (!bundled.available) return `the bundled uWebSockets.js is unavailable: ${bundled.reason}`;
  if (!existsSync(BUNDLED) || !GLIBC_NEED.test(readFileSync(BUNDLED).toString('latin1'))) return 'needs the bundled glibc Linux binary';
  return false;
})();

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project with its own uWebSockets.js in the official release's layout, its binary needing an unknown glibc if asked. */
function projectWithOwnUws(needsUnknownGlibc = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-uws-project-'));
  dirs.push(dir);
  const pkg = join(dir, 'node_modules/uWebSockets.js');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'uWebSockets.js', version: '20.99.0', main: 'uws.js' }));
  writeFileSync(join(pkg, 'uws.js'), `module.exports = require('./uws_' + process.platform + '_' + process.arch + '_' + process.versions.modules + '.node');\n`);
  const binary = readFileSync(BUNDLED);
  // Same length, so the ELF stays intact; the dynamic loader then reports this version as missing.
  if (needsUnknownGlibc) binary.write(UNKNOWN_GLIBC, binary.toString('latin1').search(GLIBC_NEED), 'latin1');
  writeFileSync(join(pkg, FILE), binary);
  return dir;
}

async function transportLine(dir: string, env: Record<string, string> = {}): Promise<string> {
  const server = await startServer({ dir, env: { REVERB_TRANSPORT: 'auto', ...env } });
  try {
    return /Transport: (.*)/.exec(server.output())?.[1] ?? '';
  } finally {
    await server.stop();
  }
}

describe('uWebSockets.js builds', { skip: UNSUPPORTED }, () => {
  it("auto uses the project's own uWebSockets.js before the bundled one", async () => {
    assert.equal(await transportLine(projectWithOwnUws()), `uws (the project's uWebSockets.js@20.99.0, native ${FILE})`);
  });

  it("auto passes over a project build that needs a newer glibc, saying which, and uses the bundled one", async () => {
    const line = await transportLine(projectWithOwnUws(true));
    assert.match(line, /^uws \(@trufflesuite\/uws-js-unofficial@[^,]+, native uws_.*; skipped: the project's uWebSockets\.js@20\.99\.0: uws_\S+ needs glibc 2\.99 or newer, this system has glibc 2\.\d+\)$/);
  });

  it('auto runs ws when no build loads, with the reason for each', async () => {
    // The bundled republish hands out its JavaScript shim on this switch.
    const line = await transportLine(projectWithOwnUws(true), { UWS_USE_FALLBACK: '1' });
    assert.match(line, /^ws \(uWebSockets\.js unavailable: the project's uWebSockets\.js@20\.99\.0: uws_\S+ needs glibc 2\.99 or newer, this system has glibc [\d.]+; @trufflesuite\S+ loads a JavaScript fallback instead of uws_\S+\)$/);
  });
});
