/**
 * The package as a user gets it: `npm pack` of a copy of this repository (its
 * prepack builds dist/), the tarball installed into a Laravel-shaped project
 * and the `reverb` binary run there through npx. The install needs no
 * network: the project gets a lockfile made from this repository's, so npm
 * takes every dependency from its cache, where `npm ci` of this repository
 * put them. Also: `npm start` and `npx reverb start` stop with their server
 * when the package manager alone gets SIGTERM.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'dotenv';
import { runCli, runCommand } from '../helpers/cli.js';
import { freePort } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const REPO = resolve(import.meta.dirname, '../..');
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string } & Record<string, unknown>;
const STOP_TIMEOUT_MS = 15_000;

interface LockEntry {
  name?: string;
  version: string;
  resolved?: string;
  dev?: boolean;
}

/** The registry address of a lockfile entry (this repository's lockfile leaves `resolved` out). */
function registryTarball(path: string, entry: LockEntry): string {
  const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  return `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
}

/** package.json and package-lock.json of a project that depends on the tarball, with this repository's production tree. */
function writeProjectManifests(dir: string, tarball: string): void {
  const spec = `file:${tarball}`;
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = {
    '': { name: 'laravel-app', dependencies: { [PACKAGE.name]: spec } },
    [`node_modules/${PACKAGE.name}`]: {
      version: PACKAGE.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      ...Object.fromEntries(['license', 'bin', 'engines', 'dependencies', 'optionalDependencies'].map((key) => [key, PACKAGE[key]])),
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path && !entry.dev) packages[path] = { resolved: registryTarball(path, entry), ...entry };
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'laravel-app', private: true, dependencies: { [PACKAGE.name]: spec } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'laravel-app', lockfileVersion: 3, requires: true, packages }));
}

/** A long-running command whose output is kept; `closed` settles once every process holding its output is gone. */
class Launched {
  readonly child: ChildProcess;
  readonly closed: Promise<number | null>;
  private text = '';

  constructor(command: string, args: string[], cwd: string, env: Record<string, string>) {
    this.child = spawn(command, args, { cwd, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.closed = new Promise((resolveClose) => this.child.once('close', (code) => resolveClose(code)));
  }

  output(): string {
    return this.text;
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text)) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no ${pattern} in the output:\n${this.text}`);
      await new Promise((wake) => setTimeout(wake, 50));
    }
  }

  /** Waits for the output to close: the launcher and every process it started have exited. */
  async whenClosed(): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running (or orphaned) after ${STOP_TIMEOUT_MS} ms:\n${this.text}`)), STOP_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function refusesConnections(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/up`, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

describe('the package installed from its tarball', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'reverb-packaging-'));
  const source = join(root, 'reverb-ts');
  const project = join(root, 'laravel-app');
  const transport: Record<string, string> = process.env.REVERB_TRANSPORT ? { REVERB_TRANSPORT: process.env.REVERB_TRANSPORT } : {};
  const launched: Launched[] = [];
  let tarball = '';
  let installOutput = '';
  let port = 0;

  const launch = (command: string, args: string[], cwd: string, env: Record<string, string> = {}) => {
    const started = new Launched(command, args, cwd, { ...transport, ...env });
    launched.push(started);
    return started;
  };

  before(async () => {
    // What a clone of the repository holds, with this working tree's changes; the copy's prepack builds dist/.
    const tracked = await runCommand('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO });
    for (const file of tracked.stdout.split('\0').filter((path) => path && existsSync(join(REPO, path)))) {
      cpSync(join(REPO, file), join(source, file));
    }
    // The build needs the dev dependencies (TypeScript) the repository has installed.
    symlinkSync(join(REPO, 'node_modules'), join(source, 'node_modules'), 'dir');
    const packed = await runCommand('npm', ['pack', '--pack-destination', root], { cwd: source, timeoutMs: 60_000 });
    assert.equal(packed.code, 0, packed.stdout + packed.stderr);
    tarball = join(root, packed.stdout.trim().split('\n').pop()!);

    port = await freePort();
    mkdirSync(join(project, 'config'), { recursive: true });
    writeFileSync(join(project, 'artisan'), '#!/usr/bin/env php\n');
    writeFileSync(join(project, '.env'), `APP_NAME=Laravel\nAPP_ENV=local\nBROADCAST_CONNECTION=log\nREVERB_SERVER_HOST=127.0.0.1\nREVERB_SERVER_PORT=${port}\n`);
    copyFileSync(join(REPO, 'test/fixtures/laravel/config/reverb.php'), join(project, 'config/reverb.php'));
    writeProjectManifests(project, tarball);
    const installed = await runCommand('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, timeoutMs: 90_000 });
    installOutput = installed.stdout + installed.stderr;
    assert.equal(installed.code, 0, installOutput);
  });

  after(async () => {
    for (const started of launched) started.child.kill('SIGKILL');
    // A server the test left orphaned (a failure) is still registered: stop it the way users do.
    await Promise.all([project, source].map((cwd) => runCli(['restart'], { cwd }).catch(() => undefined)));
    rmSync(root, { recursive: true, force: true });
  });

  it('carries the built CLI, README, LICENSE and every doc, and nothing else', async (t) => {
    const listing = await runCommand('tar', ['-tzf', tarball], { cwd: root });
    const files = listing.stdout.trim().split('\n').map((path) => path.replace(/^package\//, ''));
    for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/cli/index.js', 'dist/index.js', 'dist/index.d.ts', 'assets/dashboard/index.html']) {
      assert.ok(files.includes(file), `${file} is in the package`);
    }
    for (const doc of readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md'))) assert.ok(files.includes(`docs/${doc}`), `docs/${doc} is in the package`);
    assert.deepEqual(
      files.filter((file) => !/^(package\.json|README\.md|LICENSE|docs\/[^/]+\.md|docs\/images\/[^/]+\.png|docs\/sql\/[^/]+|assets\/dashboard\/[^/]+|dist\/.+\.(js|d\.ts|js\.map))$/.test(file)),
      [],
    );
    assert.match(readFileSync(join(project, 'node_modules', PACKAGE.name, 'LICENSE'), 'utf8'), /^MIT License/);
    t.diagnostic(`${tarball.split('/').pop()}: ${readFileSync(tarball).length} bytes, ${files.length} files`);
  });

  it('installs without building: no TypeScript and no install script of its own', () => {
    assert.equal(existsSync(join(project, 'node_modules/typescript')), false);
    assert.doesNotMatch(installOutput, /tsc|reverb-ts@[^ ]* (prepare|install|postinstall)/);
  });

  it('npx reverb --version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runCommand('npx', ['reverb', flag], { cwd: project });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${PACKAGE.version}\n`);
    }
  });

  it('npx reverb install writes the credentials and turns the broadcaster to reverb', async () => {
    const result = await runCommand('npx', ['reverb', 'install'], { cwd: project });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const env = parse(readFileSync(join(project, '.env')));
    assert.equal(env.BROADCAST_CONNECTION, 'reverb');
    assert.match(env.REVERB_APP_KEY ?? '', /^[a-z0-9]{20}$/);
  });

  it('npx reverb start serves config/reverb.php; npx reverb restart closes clients with 4200 and it exits 0', async () => {
    const server = launch('npx', ['reverb', 'start'], project);
    await server.waitFor(new RegExp(`Starting server on 127\\.0\\.0\\.1:${port}`));
    assert.match(server.output(), /Configuration: .*config\/reverb\.php/);
    const key = parse(readFileSync(join(project, '.env'))).REVERB_APP_KEY!;
    const client = await RawClient.connect(`ws://127.0.0.1:${port}/app/${key}`, { origin: 'https://app.test' });

    const restart = await runCommand('npx', ['reverb', 'restart'], { cwd: project });
    assert.match(restart.stdout, /1 server acknowledged the restart/);
    assert.equal((await client.waitForClose(STOP_TIMEOUT_MS)).code, 4200);
    assert.equal(await server.whenClosed(), 0);
  });

  it('npx reverb start stops with its server when npx gets SIGTERM', async () => {
    const server = launch('npx', ['reverb', 'start'], project);
    await server.waitFor(/Starting server on/);
    server.child.kill('SIGTERM');
    await server.whenClosed();
    assert.match(server.output(), /gracefully terminating connections[\s\S]*Stopping server/);
    assert.ok(await refusesConnections(port));
  });

  it('npm start stops with its server when npm gets SIGTERM', async () => {
    const ownPort = await freePort();
    const server = launch('npm', ['start'], source, { REVERB_SERVER_HOST: '127.0.0.1', REVERB_SERVER_PORT: String(ownPort) });
    await server.waitFor(/Starting server on/);
    server.child.kill('SIGTERM');
    await server.whenClosed();
    assert.match(server.output(), /gracefully terminating connections[\s\S]*Stopping server/);
    assert.ok(await refusesConnections(ownPort));
  });
});
