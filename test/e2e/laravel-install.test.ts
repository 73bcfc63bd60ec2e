/**
 * `reverb install` in Laravel-shaped projects: the .env entries and the steps it prints.
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'dotenv';
import { runCli } from '../helpers/cli.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function laravelProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-install-laravel-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries({ artisan: '#!/usr/bin/env php\n', ...files })) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

describe('reverb install in a Laravel project', () => {
  it('turns the broadcaster to reverb, adds VITE_REVERB_*, lists the Laravel steps left, and is idempotent', async () => {
    const dir = laravelProject({ '.env': 'APP_NAME=Laravel\nBROADCAST_DRIVER=null\n', 'config/reverb.php': '<?php return [];\n' });
    const first = await runCli(['install'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const env = parse(readFileSync(join(dir, '.env')));
    assert.equal(env.BROADCAST_DRIVER, 'reverb');
    assert.equal(env.VITE_REVERB_APP_KEY, '${REVERB_APP_KEY}');
    assert.match(first.stdout, /Broadcasting in \.env: set BROADCAST_DRIVER=reverb \(was null\)\./);
    assert.match(first.stdout, /config\/reverb\.php already exists: left unchanged\./);
    assert.equal(existsSync(join(dir, 'reverb.config.mjs')), false, 'config/reverb.php is the config file: no reverb.config.mjs to override it');
    assert.match(first.stdout, /Laravel side, still to do:\n {2}- the broadcaster’s PHP client \(pusher\/pusher-php-server\): composer require pusher\/pusher-php-server\n {2}- the `reverb` broadcasting connection/);

    const installed = readFileSync(join(dir, '.env'), 'utf8');
    const second = await runCli(['install'], { cwd: dir });
    assert.match(second.stdout, /Broadcasting in \.env: BROADCAST_DRIVER=reverb left as it is\./);
    assert.equal(readFileSync(join(dir, '.env'), 'utf8'), installed);
  });

  it('adds BROADCAST_CONNECTION where unset, keeps another broadcaster, and sees the Laravel side done', async () => {
    const done = {
      'composer.json': '{"require": {"pusher/pusher-php-server": "^7.2"}}',
      'config/broadcasting.php': "<?php return ['connections' => ['reverb' => ['driver' => 'reverb']]];",
      'routes/channels.php': '<?php\n',
      'resources/js/echo.js': "window.Echo = new Echo({ broadcaster: 'reverb', key: import.meta.env.VITE_REVERB_APP_KEY });\n",
    };
    const unset = laravelProject({ '.env': 'APP_NAME=Laravel\n', ...done });
    const result = await runCli(['install'], { cwd: unset });
    assert.equal(parse(readFileSync(join(unset, '.env'))).BROADCAST_CONNECTION, 'reverb');
    assert.match(result.stdout, /Broadcasting in \.env: added BROADCAST_CONNECTION=reverb\./);
    assert.match(result.stdout, /Laravel side: done/);

    const pusher = laravelProject({ '.env': 'BROADCAST_CONNECTION=pusher\n' });
    await runCli(['install'], { cwd: pusher });
    assert.equal(parse(readFileSync(join(pusher, '.env'))).BROADCAST_CONNECTION, 'pusher');
  });
});
