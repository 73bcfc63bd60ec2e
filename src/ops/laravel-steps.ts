/**
 * The Laravel side of a reverb-ts installation, which `php artisan
 * reverb:install` would otherwise set up: the broadcaster's PHP client, the
 * `reverb` broadcasting connection and Echo in the front end. Each step is
 * reported as done or with the command that does it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function read(cwd: string, file: string): string {
  const path = join(cwd, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

export interface LaravelStep {
  readonly done: boolean;
  readonly what: string;
  /** How to do it when not done. */
  readonly how: string;
}

/** The steps for the Laravel project in `cwd`; undefined when it is not one (no `artisan`). */
export function laravelSteps(cwd: string): LaravelStep[] | undefined {
  if (!existsSync(join(cwd, 'artisan'))) return undefined;
  const echo = ['resources/js/echo.js', 'resources/js/echo.ts', 'resources/js/bootstrap.js', 'resources/js/bootstrap.ts', 'resources/js/app.js', 'resources/js/app.ts']
    .map((file) => read(cwd, file))
    .join('\n');
  return [
    {
      done: read(cwd, 'composer.json').includes('"pusher/pusher-php-server"'),
      what: 'the broadcaster’s PHP client (pusher/pusher-php-server)',
      how: 'composer require pusher/pusher-php-server',
    },
    {
      done: /['"]reverb['"]\s*=>/.test(read(cwd, 'config/broadcasting.php')) && existsSync(join(cwd, 'routes/channels.php')),
      what: 'the `reverb` broadcasting connection and routes/channels.php',
      how: 'php artisan install:broadcasting --without-reverb (Laravel 11+; on older versions add the `reverb` connection from the Reverb docs to config/broadcasting.php)',
    },
    {
      done: /broadcaster:\s*['"]reverb['"]/.test(echo),
      what: 'Laravel Echo in the front end with the reverb broadcaster',
      how: 'npm install --save-dev laravel-echo pusher-js, then create resources/js/echo.js with broadcaster "reverb" and the VITE_REVERB_* values (the Laravel broadcasting docs show it)',
    },
  ];
}
