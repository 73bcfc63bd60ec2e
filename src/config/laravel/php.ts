/**
 * Lets PHP itself evaluate a Laravel project's configuration, so every helper
 * and construct works exactly as under `php artisan reverb:start`: with the
 * project's vendor/ installed, by booting the application and asking it for
 * config('reverb') (cached or not); otherwise by requiring the file after a
 * small prelude that gives Laravel's env() and path helpers.
 */
import { execFile } from 'node:child_process';
import { ConfigError } from '../errors.js';

/** Which way PHP reads the configuration. */
export type PhpMode = 'laravel' | 'cached' | 'file';

/** The config sections asked for: reverb for the server, cache and database for `reverb:restart`, pulse for Laravel Pulse. */
export const SECTIONS = ['reverb', 'cache', 'database', 'pulse'] as const;
export type Sections = Partial<Record<(typeof SECTIONS)[number], unknown>> & {
  /** Without the Laravel application, config/pulse.php may call Pulse's classes: why PHP could not read it. */
  pulse_error?: string;
};

const MARKER = '@@reverb-ts:result@@';
const TIMEOUT_MS = 20_000;

/*
 * argv: base path, mode, file. Warnings become exceptions as in a booted
 * Laravel app (its HandleExceptions does the same), so a mistake is reported
 * rather than giving a silently different value. The result follows a marker
 * because booting an app may print (deprecation notices, dump() calls).
 */
const SCRIPT = String.raw`
[, $base, $mode, $file] = $argv;
$sections = ['reverb', 'cache', 'database', 'pulse'];
set_error_handler(function ($level, $message, $where, $line) {
    if ($level & (E_DEPRECATED | E_USER_DEPRECATED)) return true;
    throw new ErrorException($message, 0, $level, $where, $line);
});
try {
    if ($mode === 'laravel') {
        require $base.'/vendor/autoload.php';
        $app = require $base.'/bootstrap/app.php';
        $app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();
        $result = [];
        foreach ($sections as $section) $result[$section] = config($section);
    } elseif ($mode === 'cached') {
        if (is_file($base.'/vendor/autoload.php')) require $base.'/vendor/autoload.php';
        $cached = require $file;
        $result = [];
        foreach ($sections as $section) $result[$section] = $cached[$section] ?? null;
    } else {
        if (! function_exists('env')) {
            function env($key, $default = null) {
                $value = getenv($key);
                if ($value === false) $value = $_ENV[$key] ?? $_SERVER[$key] ?? null;
                if ($value === null) return $default instanceof Closure ? $default() : $default;
                switch (strtolower($value)) {
                    case 'true': case '(true)': return true;
                    case 'false': case '(false)': return false;
                    case 'empty': case '(empty)': return '';
                    case 'null': case '(null)': return null;
                }
                if (preg_match('/\A([\'"])(.*)\1\z/', $value, $matches)) return $matches[2];
                return $value;
            }
        }
        if (! function_exists('value')) {
            function value($value, ...$args) { return $value instanceof Closure ? $value(...$args) : $value; }
        }
        $paths = ['base_path' => '', 'app_path' => 'app', 'config_path' => 'config', 'database_path' => 'database',
            'public_path' => 'public', 'resource_path' => 'resources', 'storage_path' => 'storage'];
        foreach ($paths as $helper => $folder) {
            if (function_exists($helper)) continue;
            $root = $folder === '' ? $base : $base.'/'.$folder;
            eval('function '.$helper.'($path = "") { $p = ltrim($path, "/"); return '.var_export($root, true).'.($p === "" ? "" : "/".$p); }');
        }
        $result = ['reverb' => require $file];
        if (is_file($base.'/config/pulse.php')) {
            try {
                $result['pulse'] = require $base.'/config/pulse.php';
            } catch (Throwable $e) {
                $result['pulse_error'] = get_class($e).': '.$e->getMessage().' at config/pulse.php:'.$e->getLine();
            }
        }
    }
    echo "\n".'${MARKER}'.json_encode(['ok' => $result], JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
} catch (Throwable $e) {
    echo "\n".'${MARKER}'.json_encode(['error' => get_class($e).': '.$e->getMessage(), 'file' => $e->getFile(), 'line' => $e->getLine()], JSON_INVALID_UTF8_SUBSTITUTE);
}
`;

interface Outcome {
  ok?: Sections;
  error?: string;
  file?: string;
  line?: number;
}

/** The php binary to use: REVERB_PHP names one, `false` turns PHP off; otherwise `php` from the PATH. */
export function phpBinary(env: NodeJS.ProcessEnv): string | null {
  const setting = env.REVERB_PHP;
  if (setting === undefined || setting === '') return 'php';
  return ['false', '(false)'].includes(setting.toLowerCase()) ? null : setting;
}

/**
 * Runs PHP; resolves undefined when the binary does not exist (the caller
 * then reads the file without PHP). `displayName` shortens paths in errors.
 */
export function evaluateWithPhp(
  php: string,
  options: { mode: PhpMode; base: string; file: string; env: NodeJS.ProcessEnv; displayName: (path: string) => string },
): Promise<Sections | undefined> {
  const args = ['-d', 'display_errors=stderr', '-r', SCRIPT, '--', options.base, options.mode, options.file];
  return new Promise((resolve, reject) => {
    execFile(php, args, { cwd: options.base, env: options.env, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return resolve(undefined);
      const at = stdout.lastIndexOf(MARKER);
      if (at < 0) {
        const reason = error?.killed ? `did not finish within ${TIMEOUT_MS / 1000} s` : (stderr.trim() || stdout.trim() || String(error)).split('\n').slice(-3).join(' ');
        return reject(new ConfigError(`PHP could not read the Laravel configuration (${php}): ${reason}`));
      }
      const outcome = JSON.parse(stdout.slice(at + MARKER.length)) as Outcome;
      if (outcome.ok) return resolve(outcome.ok);
      const where = outcome.file ? `${options.displayName(outcome.file)}:${outcome.line}: ` : '';
      reject(new ConfigError(`${where}${outcome.error} (while PHP read the Laravel configuration)`));
    });
  });
}
