/**
 * The README's client snippets, run as written against the development app
 * `reverb start` serves without configuration: the pusher-js and laravel-echo
 * ones subscribe to `orders` and print what they receive, the pusher SDK one
 * publishes the `shipped` event they wait for. Only the address changes (the
 * test server's port), and Node's global object stands in for the browser's
 * `window`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCommand } from '../helpers/cli.js';
import { serverForSuite, type StartedServer } from '../helpers/server.js';

const REPO = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const PUBLISH_ATTEMPTS = 20;

/** The first JavaScript block after a heading of the README. */
function snippet(heading: string): string {
  const at = README.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has "${heading}"`);
  return /```js\n([\s\S]*?)```/.exec(README.slice(at))![1]!;
}

describe("the README's snippets", () => {
  let server: StartedServer;
  const dir = mkdtempSync(join(tmpdir(), 'reverb-readme-'));
  const subscribers: ChildProcess[] = [];
  // The snippets import the packages this repository has installed.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');

  serverForSuite({ noConfigFile: true, args: ['--host', '127.0.0.1', '--port', '0'] }, { started: (started) => (server = started) });
  after(() => {
    for (const child of subscribers) child.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The snippet as a module of its own, pointed at the test server. */
  const script = (name: string, heading: string, browser: boolean): string => {
    const port = /Starting server on 127\.0\.0\.1:(\d+)/.exec(server.output())![1]!;
    const code = snippet(heading).replaceAll("'localhost'", "'127.0.0.1'").replaceAll('8080', port);
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, (browser ? 'globalThis.window = globalThis;\n' : '') + code);
    return file;
  };

  /** Starts a subscribing snippet; `output()` is what it printed so far. */
  const subscriber = (file: string) => {
    const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    subscribers.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return { output: () => output };
  };

  it('pusher-js and laravel-echo receive what the pusher SDK snippet publishes', async () => {
    const clients = {
      'pusher-js': subscriber(script('pusher-js', '### Point pusher-js at it', true)),
      'laravel-echo': subscriber(script('laravel-echo', '### Point laravel-echo at it', true)),
    };
    const publish = script('publish', '### Publish from a backend', false);
    const received = () => Object.values(clients).every((client) => client.output().includes('{ id: 42 }'));
    const crashed = () => subscribers.some((child) => child.exitCode !== null);
    // Each publish runs the snippet once; the subscribers may still be connecting for the first ones.
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS && !received() && !crashed(); attempt++) {
      const result = await runCommand(process.execPath, [publish], { cwd: dir });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      await new Promise((wake) => setTimeout(wake, 250));
    }
    for (const [name, client] of Object.entries(clients)) {
      assert.match(client.output(), /^\{ id: 42 \}$/m, `${name} printed the event:\n${client.output()}`);
    }
  });
});
