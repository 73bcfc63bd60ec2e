import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isRunning, processStartTime, registerServer, registryDir, runningServers, type ServerEntry } from '../../src/ops/registry.js';

const root = mkdtempSync(join(tmpdir(), 'reverb-registry-root-'));
const cwd = mkdtempSync(join(tmpdir(), 'reverb-registry-cwd-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

const SERVER = { cwd, host: '127.0.0.1', port: 8080, shutdownTimeout: 10 };

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('server registry', () => {
  it('keys the folder by the real working directory, per user', () => {
    assert.equal(registryDir(cwd, root), registryDir(`${cwd}/.`, root));
    assert.notEqual(registryDir(cwd, root), registryDir(tmpdir(), root));
    assert.ok(registryDir(cwd, root).startsWith(join(root, 'reverb-ts-')));
  });

  it('lists a registered server until it unregisters, then leaves no folder behind', () => {
    const unregister = registerServer(SERVER, root);
    const [entry, ...rest] = runningServers(cwd, root);
    assert.equal(rest.length, 0);
    assert.equal(entry!.pid, process.pid);
    assert.equal(entry!.port, 8080);
    assert.equal(entry!.processStart, processStartTime(process.pid));
    unregister();
    assert.deepEqual(runningServers(cwd, root), []);
    assert.equal(existsSync(registryDir(cwd, root)), false);
  });

  it('prunes records of processes that are gone', async () => {
    const unregister = registerServer(SERVER, root);
    const dir = registryDir(cwd, root);
    const pid = await deadPid();
    writeFileSync(join(dir, `${pid}.json`), JSON.stringify({ ...SERVER, pid, startedAt: new Date().toISOString() }));
    writeFileSync(join(dir, '999999999.json'), 'not json');
    assert.deepEqual(runningServers(cwd, root).map((entry) => entry.pid), [process.pid]);
    assert.deepEqual(readdirSync(dir), [`${process.pid}.json`]);
    unregister();
  });

  it('does not mistake a recycled pid for the server', { skip: processStartTime(process.pid) === undefined && 'needs /proc' }, () => {
    const entry: ServerEntry = { ...SERVER, pid: process.pid, startedAt: '', processStart: processStartTime(process.pid) };
    assert.equal(isRunning(entry), true);
    assert.equal(isRunning({ ...entry, processStart: '1' }), false);
  });

  it('reads the start time even when the command name has spaces and parentheses', { skip: !existsSync('/proc/self/stat') && 'needs /proc' }, async () => {
    // The kernel names a process after the file it executes: a link with an awkward name.
    const link = join(cwd, 'a) (b c');
    symlinkSync(process.execPath, link);
    const child = spawn(link, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      assert.match(readFileSync(`/proc/${child.pid}/stat`, 'utf8'), /\(a\) \(b c\)/);
      // Started after this process: a later (or equal) tick count, not some other field.
      const started = processStartTime(child.pid!) ?? '';
      assert.match(started, /^\d+$/);
      assert.ok(Number(started) >= Number(processStartTime(process.pid)), started);
    } finally {
      child.kill();
    }
  });
});

describe('server registry housekeeping', () => {
  it('removes the dead records of other directories when a server registers', async () => {
    const otherCwd = mkdtempSync(join(tmpdir(), 'reverb-registry-other-'));
    try {
      const otherDir = registryDir(otherCwd, root);
      mkdirSync(otherDir, { recursive: true, mode: 0o700 });
      const pid = await deadPid();
      writeFileSync(join(otherDir, `${pid}.json`), JSON.stringify({ ...SERVER, cwd: otherCwd, pid, startedAt: new Date().toISOString() }));
      const unregister = registerServer(SERVER, root);
      assert.equal(existsSync(otherDir), false);
      assert.equal(runningServers(cwd, root).length, 1);
      unregister();
    } finally {
      rmSync(otherCwd, { recursive: true, force: true });
    }
  });
});
