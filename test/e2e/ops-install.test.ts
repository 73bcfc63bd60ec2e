/**
 * `reverb install`: the .env entries and the commented config file it writes.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'dotenv';
import { runCli } from '../helpers/cli.js';
import { connectPusherJs } from '../helpers/clients.js';
import { freePort, startServer } from '../helpers/server.js';
import { signedRequest } from '../helpers/sign.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-install-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const REVERB_LINES = [
  /^REVERB_APP_ID=\d{6}$/,
  /^REVERB_APP_KEY=[a-z0-9]{20}$/,
  /^REVERB_APP_SECRET=[a-z0-9]{20}$/,
  /^REVERB_HOST="localhost"$/,
  /^REVERB_PORT=8080$/,
  /^REVERB_SCHEME=http$/,
  /^$/,
  /^VITE_REVERB_APP_KEY="\$\{REVERB_APP_KEY\}"$/,
  /^VITE_REVERB_HOST="\$\{REVERB_HOST\}"$/,
  /^VITE_REVERB_PORT="\$\{REVERB_PORT\}"$/,
  /^VITE_REVERB_SCHEME="\$\{REVERB_SCHEME\}"$/,
];

function assertLines(lines: string[], patterns: RegExp[]): void {
  assert.equal(lines.length, patterns.length, lines.join('\n'));
  lines.forEach((line, i) => assert.match(line, patterns[i]!));
}

describe('reverb install', () => {
  it('creates .env and a commented reverb.config.mjs in an empty folder, and a second run changes nothing', async () => {
    const dir = tempDir();
    const first = await runCli(['install'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Created \.env: added REVERB_APP_ID, REVERB_APP_KEY, REVERB_APP_SECRET, REVERB_HOST, REVERB_PORT, REVERB_SCHEME, VITE_REVERB_APP_KEY/);
    assert.match(first.stdout, /Created reverb\.config\.mjs/);

    const env = readFileSync(join(dir, '.env'), 'utf8');
    assert.ok(env.endsWith('\n'));
    assertLines(env.slice(0, -1).split('\n'), REVERB_LINES);
    const config = readFileSync(join(dir, 'reverb.config.mjs'), 'utf8');
    assert.match(config, /export default \{/);
    assert.match(config, /\/\/ /, 'the config file is commented');

    const second = await runCli(['install'], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /\.env already has every Reverb entry: left unchanged/);
    assert.match(second.stdout, /reverb\.config\.mjs already exists: left unchanged/);
    assert.equal(readFileSync(join(dir, '.env'), 'utf8'), env);
    assert.equal(readFileSync(join(dir, 'reverb.config.mjs'), 'utf8'), config);
  });

  it('generates different credentials on every installation', async () => {
    const [a, b] = [tempDir(), tempDir()];
    await runCli(['install'], { cwd: a });
    await runCli(['install'], { cwd: b });
    const envA = parse(readFileSync(join(a, '.env')));
    const envB = parse(readFileSync(join(b, '.env')));
    assert.notEqual(envA.REVERB_APP_KEY, envB.REVERB_APP_KEY);
    assert.notEqual(envA.REVERB_APP_SECRET, envB.REVERB_APP_SECRET);
    assert.notEqual(envA.REVERB_APP_KEY, envA.REVERB_APP_SECRET);
  });

  it('adds only the missing keys to a Laravel .env and never touches its other lines', async () => {
    const dir = tempDir();
    const laravel = [
      'APP_NAME=Laravel',
      'APP_ENV=local',
      'APP_KEY=base64:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=',
      '',
      '# Broadcasting',
      'BROADCAST_CONNECTION=log',
      'REVERB_APP_ID=my-app-id',
      'export REVERB_APP_KEY="my-app-key"',
      'REVERB_HOST = "ws.example.com"',
      'VITE_APP_NAME="${APP_NAME}"',
      '# REVERB_PORT=1234 (a comment does not define the key)',
      'MY_REVERB_SCHEME=https',
    ].join('\n'); // no trailing newline, as editors sometimes leave it
    writeFileSync(join(dir, '.env'), laravel);

    const first = await runCli(['install'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Updated \.env: added REVERB_APP_SECRET, REVERB_PORT, REVERB_SCHEME, VITE_REVERB_APP_KEY, VITE_REVERB_HOST, VITE_REVERB_PORT, VITE_REVERB_SCHEME\./);
    const env = readFileSync(join(dir, '.env'), 'utf8');
    // Every line is kept byte for byte but the broadcaster, which reverb:install turns to reverb.
    const expected = laravel.replace('BROADCAST_CONNECTION=log', 'BROADCAST_CONNECTION=reverb');
    assert.ok(env.startsWith(`${expected}\n\n`), 'existing content is kept, then a blank line');
    assertLines(env.slice(expected.length + 2, -1).split('\n'), [
      /^REVERB_APP_SECRET=[a-z0-9]{20}$/,
      /^REVERB_PORT=8080$/,
      /^REVERB_SCHEME=http$/,
      /^$/,
      ...REVERB_LINES.slice(7),
    ]);
    const parsed = parse(env);
    assert.equal(parsed.REVERB_APP_ID, 'my-app-id');
    assert.equal(parsed.REVERB_APP_KEY, 'my-app-key');
    assert.equal(parsed.REVERB_HOST, 'ws.example.com');
    assert.equal(parsed.BROADCAST_CONNECTION, 'reverb');
    assert.match(first.stdout, /Broadcasting in \.env: set BROADCAST_CONNECTION=reverb \(was log\)\./);

    const second = await runCli(['install'], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readFileSync(join(dir, '.env'), 'utf8'), env);
  });

  it('leaves an existing config file alone and writes no second one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'reverb.config.json'), '{}\n');
    const result = await runCli(['install'], { cwd: dir });
    assert.match(result.stdout, /reverb\.config\.json already exists: left unchanged/);
    assert.equal(readFileSync(join(dir, 'reverb.config.json'), 'utf8'), '{}\n');
    assert.equal(existsSync(join(dir, 'reverb.config.mjs')), false);
  });

  it('leaves a project that `reverb start` serves with the generated credentials', async () => {
    const dir = tempDir();
    await runCli(['install'], { cwd: dir });
    const env = parse(readFileSync(join(dir, '.env')));
    const port = await freePort();
    const server = await startServer({
      dir,
      noConfigFile: true,
      env: { REVERB_SERVER_HOST: '127.0.0.1', REVERB_SERVER_PORT: String(port) },
    });
    const app = { app_id: env.REVERB_APP_ID!, key: env.REVERB_APP_KEY!, secret: env.REVERB_APP_SECRET! };
    const client = await connectPusherJs(server, { app }).catch(async (error: unknown) => {
      await server.stop();
      throw error;
    });
    try {
      assert.doesNotMatch(server.output(), /development app/);
      const response = await signedRequest(server.url, {
        method: 'GET',
        path: `/apps/${env.REVERB_APP_ID}/connections`,
        key: env.REVERB_APP_KEY!,
        secret: env.REVERB_APP_SECRET!,
      });
      assert.equal(response.status, 200, response.body);
      assert.deepEqual(JSON.parse(response.body), { connections: 1 });
    } finally {
      client.disconnect();
      assert.equal(await server.stop(), 0);
    }
  });
});
