import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { evaluateWithPhp } from '../../src/config/laravel/php.js';
import { evaluatePhpConfig } from '../../src/config/php/evaluate.js';
import { project, removeProjects } from '../helpers/project.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const hasPhp = (await evaluateWithPhp('php', { mode: 'file', base: FIXTURES, file: join(FIXTURES, 'php/constructs.php'), env: { PATH: process.env.PATH }, displayName: (p) => p }).catch(() => undefined)) !== undefined;
const needsPhp = hasPhp ? {} : { skip: 'php is not installed (apt-get install php-cli)' };

after(removeProjects);

const ENV = {
  V_TRUE: 'true', V_PAREN_TRUE: '(true)', V_FALSE: 'FALSE', V_PAREN_FALSE: '(false)', V_NULL: 'null', V_PAREN_NULL: '(null)',
  V_EMPTY: 'empty', V_PAREN_EMPTY: '(empty)', V_QUOTED: '"quoted"', V_NUMBER: '8080',
};

function withoutPhp(file: string, env: Record<string, string> = ENV): unknown {
  return evaluatePhpConfig(file, { env, basePath: dirname(file), displayName: 'config/reverb.php' });
}

function failure(code: string): string {
  const dir = project({ 'config/reverb.php': `<?php\n${code}` });
  try {
    withoutPhp(join(dir, 'config/reverb.php'));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('config/reverb.php without php', () => {
  it('gives what PHP gives for every supported construct', needsPhp, async () => {
    const file = join(FIXTURES, 'php/constructs.php');
    const byPhp = await evaluateWithPhp('php', { mode: 'file', base: dirname(file), file, env: { PATH: process.env.PATH, ...ENV }, displayName: (p) => p });
    assert.deepEqual(withoutPhp(file), byPhp!.reverb);
  });

  it('applies Laravel’s env() casts and defaults', () => {
    const dir = project({ 'config/reverb.php': `<?php return [env('V_TRUE'), env('V_PAREN_NULL', 'x'), env('V_EMPTY'), env('V_QUOTED'), env('MISSING', 8080), env('V_NUMBER') === '8080'];` });
    assert.deepEqual(withoutPhp(join(dir, 'config/reverb.php')), [true, null, '', 'quoted', 8080, true]);
  });

  it('names the file, line and construct it does not support', () => {
    assert.match(failure(`use Illuminate\\Support\\Str;\nreturn [\n  'channel' => Str::slug(env('APP_NAME')),\n];`), /^config\/reverb\.php:4: the static method Str::slug\(\) is not supported \(the file was read without PHP: install php-cli/);
    assert.match(failure(`return [\n 'host' => gethostname(),\n];`), /^config\/reverb\.php:3: the function gethostname\(\) is not supported/);
    assert.match(failure(`return ['x' => new DateTime()];`), /^config\/reverb\.php:2: creating an object \(new\) is not supported/);
    assert.match(failure(`return ['x' => PDO::ATTR_TIMEOUT];`), /^config\/reverb\.php:2: the class constant PDO::ATTR_TIMEOUT is not supported/);
    assert.match(failure(`return ['x' => $undefined];`), /^config\/reverb\.php:2: undefined variable \$undefined/);
    assert.match(failure(`if (true) {}\nreturn [];`), /^config\/reverb\.php:2: an if statement is not supported in a config file/);
    assert.match(failure(`return ['x' => ,];`), /^config\/reverb\.php:2: PHP syntax error: syntax error, unexpected ','/);
  });
});

describe('the Laravel project’s configuration', () => {
  const app = { REVERB_APP_ID: '1001', REVERB_APP_KEY: 'laravel-key', REVERB_APP_SECRET: 'laravel-secret' };
  const published = join(FIXTURES, 'laravel');

  it('is identical read by php and without it, and sits between the defaults and reverb.config.*', needsPhp, async () => {
    const dir = project();
    cpSync(published, dir, { recursive: true });
    const env = { PATH: process.env.PATH!, ...app, REVERB_ALLOWED_ORIGINS: 'app.test,admin.app.test', REVERB_SCALING_CHANNEL: 'from-env' };
    const withPhp = await loadConfig({ cwd: dir, env: { ...env } });
    const withoutIt = await loadConfig({ cwd: dir, env: { ...env, REVERB_PHP: 'false' } });
    assert.deepEqual(withPhp.sources, ['config/reverb.php (php)']);
    assert.deepEqual(withoutIt.sources, ['config/reverb.php (read without php)']);
    assert.deepEqual({ ...withPhp, sources: [] }, { ...withoutIt, sources: [] });
    assert.deepEqual(withPhp.apps.map((a) => [a.id, a.key, a.allowedOrigins, a.maxMessageSize]), [
      ['1001', 'laravel-key', ['app.test', 'admin.app.test'], 10_000],
      ['admin-local', 'admin-key', ['*'], 2000],
    ]);
    assert.equal(withPhp.server.scaling.channel, 'from-env');

    writeFileSync(join(dir, 'reverb.config.json'), JSON.stringify({ servers: { reverb: { port: 9999 } } }));
    const overridden = await loadConfig({ cwd: dir, env: { ...env, REVERB_PHP: 'false' } });
    assert.equal(overridden.server.port, 9999);
    assert.equal(overridden.apps.length, 2, 'the apps still come from config/reverb.php');
    assert.deepEqual(overridden.sources, ['config/reverb.php (read without php)', 'reverb.config.json']);
  });

  it('uses the cached configuration when `php artisan config:cache` wrote one, read either way', needsPhp, async () => {
    const cached = `<?php return array (\n  'app' => array ('name' => 'Laravel'),\n  'reverb' => array (\n    'apps' => array ('apps' => array (0 => array ('app_id' => 'cached', 'key' => 'cached-key', 'secret' => 'cached-secret', 'allowed_origins' => array (0 => 'cached.test'), 'ping_interval' => 60, 'max_message_size' => 500))),\n  ),\n);\n`;
    const dir = project({ 'bootstrap/cache/config.php': cached, 'config/reverb.php': `<?php return ['apps' => ['apps' => []]];` });
    for (const [env, source] of [[{}, 'bootstrap/cache/config.php (php)'], [{ REVERB_PHP: 'false' }, 'bootstrap/cache/config.php (read without php)']] as const) {
      const config = await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...env } });
      assert.deepEqual(config.sources, [source]);
      assert.deepEqual(config.apps.map((a) => [a.id, a.allowedOrigins, a.maxMessageSize]), [['cached', ['cached.test'], 500]]);
    }
  });

  it('boots the Laravel application when its vendor/ is installed and asks it for config(\'reverb\')', needsPhp, async () => {
    // A stand-in for Laravel: what the boot script calls, and a config() that is not just the file.
    const dir = project({
      'vendor/autoload.php': `<?php namespace Illuminate\\Contracts\\Console { interface Kernel {} } namespace { function config($key) { return $key === 'reverb' ? ['apps' => ['apps' => [['app_id' => 'booted', 'key' => 'k', 'secret' => 's', 'allowed_origins' => ['*'], 'ping_interval' => 60, 'max_message_size' => 100]]]] : null; } }`,
      'bootstrap/app.php': `<?php return new class { public function make($what) { return new class { public function bootstrap() {} }; } };`,
      'config/reverb.php': `<?php return [];`,
    });
    const config = await loadConfig({ cwd: dir, env: { PATH: process.env.PATH } });
    assert.deepEqual(config.sources, ['config/reverb.php (php, Laravel application)']);
    assert.equal(config.apps[0]!.id, 'booted');
  });

  it('reports a PHP error with the file and line', needsPhp, async () => {
    const dir = project({ 'config/reverb.php': `<?php\n\nreturn ['apps' => undefined_helper()];` });
    await assert.rejects(loadConfig({ cwd: dir, env: { PATH: process.env.PATH } }), /^Error: config\/reverb\.php:3: Error: Call to undefined function undefined_helper\(\) \(while PHP read the Laravel configuration\)$/);
  });
});
