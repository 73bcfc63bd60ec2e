/**
 * Laravel Pulse's settings for Reverb's messages: read from the project's
 * config/pulse.php (by PHP, by the evaluator, from the cached configuration)
 * or Pulse's environment defaults, and combined with reverb-ts's own
 * servers.reverb.pulse keys as Reverb's server would have it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { intervalMilliseconds, laravelPulseSettings, type LaravelPulseSettings } from '../../src/config/laravel/pulse.js';
import { evaluatePhpConfig } from '../../src/config/php/evaluate.js';
import { toPulse, type PulseContext } from '../../src/config/pulse.js';
import { project, removeProjects } from '../helpers/project.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const PULSE_PHP = join(FIXTURES, 'laravel-pulse/config/pulse.php');
const APP_ENV = { REVERB_APP_ID: '1', REVERB_APP_KEY: 'key', REVERB_APP_SECRET: 'secret' };

after(removeProjects);

/** A Laravel project with the published config/reverb.php and `files`. */
const laravelProject = (files: Record<string, string>) => project({ 'config/reverb.php': readFileSync(join(FIXTURES, 'laravel/config/reverb.php'), 'utf8'), ...files });

const MYSQL = { driver: 'mysql', url: null, host: 'db', port: 3306, database: 'app', username: 'root', password: '', prefix: '' } as const;

function context(settings: Partial<LaravelPulseSettings>): PulseContext {
  return {
    settings: { ...laravelPulseSettings(undefined, undefined, {}), source: 'config/pulse.php (php)', ...settings },
    databases: (name) => (name === 'lite' ? { driver: 'sqlite', file: 'x', prefix: '' } : { ...MYSQL, database: name ?? 'app' }),
    redisConnections: (name) => ({ url: null, host: 'redis', port: 6379, username: null, password: null, database: name === 'pulse' ? 2 : 0, prefix: 'laravel_database_' }),
  };
}

const REGISTERED = { recorder: { enabled: true, sampleRate: 0.5 } };

/** The redis ingest settings of a connection (Laravel's defaults but for `redis`), prefix, trim and lottery. */
function redisIngest(redis: Record<string, unknown>, prefix: string, trim: unknown, trimLottery: [number, number]): unknown {
  const connection = { url: null, host: '127.0.0.1', port: 6379, username: null, password: null, database: 0, ...redis, prefix };
  return { driver: 'redis', redis: connection, stream: `${prefix}laravel:pulse:ingest`, trim, trimLottery };
}

describe("Laravel Pulse's settings", () => {
  it("are Pulse's environment defaults without config/pulse.php", () => {
    assert.deepEqual(laravelPulseSettings(undefined, undefined, {}), {
      source: null,
      enabled: true,
      ingestDriver: 'storage',
      redisConnection: null,
      databaseConnection: null,
      trimKeep: '7 days',
      trimLottery: [1, 1000],
      recorder: undefined,
    });
    const env = { PULSE_ENABLED: 'false', PULSE_INGEST_DRIVER: 'redis', PULSE_REDIS_CONNECTION: 'pulse', PULSE_DB_CONNECTION: 'pg', PULSE_INGEST_KEEP: '2 days' };
    assert.deepEqual(laravelPulseSettings(undefined, undefined, env), {
      source: null,
      enabled: false,
      ingestDriver: 'redis',
      redisConnection: 'pulse',
      databaseConnection: 'pg',
      trimKeep: '2 days',
      trimLottery: [1, 1000],
      recorder: undefined,
    });
  });

  it('record as Reverb does: Pulse enabled and ReverbMessages registered and enabled, unless reverb-ts says otherwise', () => {
    const on = (section: Parameters<typeof toPulse>[0], settings: Partial<LaravelPulseSettings>) => toPulse(section, undefined, context(settings)) !== null;
    assert.equal(on(null, {}), false, 'nothing registered, nothing asked for');
    assert.equal(on(null, REGISTERED), true);
    assert.equal(on(null, { recorder: { enabled: false, sampleRate: 1 } }), false, 'the recorder disabled');
    assert.equal(on(null, { ...REGISTERED, enabled: false }), false, 'Pulse disabled');
    const section = (enabled: boolean | null) => ({ enabled, sample_rate: null, connection: null, ingest_driver: null, redis_connection: null });
    assert.equal(on(section(false), REGISTERED), false, 'REVERB_PULSE_ENABLED=false');
    assert.equal(on(section(true), {}), true, 'REVERB_PULSE_ENABLED=true without the recorder');
    assert.equal(on(section(true), { enabled: false }), false, 'Pulse disabled wins');
    assert.equal(on(section(true), { recorder: { enabled: false, sampleRate: 1 } }), false, 'the recorder disabled wins');
  });

  it("take the sample rate from reverb-ts, else the recorder, else 1; the driver's connection likewise", () => {
    const none = { enabled: null, sample_rate: null, connection: null, ingest_driver: null, redis_connection: null };
    assert.equal(toPulse(none, 15, context(REGISTERED))!.sampleRate, 0.5);
    assert.equal(toPulse({ ...none, sample_rate: 0.1 }, 15, context(REGISTERED))!.sampleRate, 0.1);
    assert.equal(toPulse(none, 15, context({ recorder: { enabled: true, sampleRate: null } }))!.sampleRate, 1);
    assert.throws(() => toPulse(none, 15, context({ recorder: { enabled: true, sampleRate: 2 } })), /recorders\[Laravel\\Reverb\\Pulse\\Recorders\\ReverbMessages::class\]\.sample_rate = 2/);

    assert.deepEqual(toPulse(none, '5', context({ ...REGISTERED, databaseConnection: 'pulse_db' })), {
      ingestInterval: 5,
      sampleRate: 0.5,
      ingest: { driver: 'storage', database: { ...MYSQL, database: 'pulse_db' } },
      source: 'config/pulse.php (php)',
    });
    assert.equal((toPulse({ ...none, connection: 'mine' }, 15, context({ ...REGISTERED, databaseConnection: 'pulse_db' }))!.ingest as { database: { database: string } }).database.database, 'mine');
    assert.throws(() => toPulse(none, 15, context({ ...REGISTERED, databaseConnection: 'lite' })), /the lite database connection is SQLite; set PULSE_DB_CONNECTION, or PULSE_INGEST_DRIVER=redis/);

    const redis = toPulse(none, 15, context({ ...REGISTERED, ingestDriver: 'redis', redisConnection: 'pulse', trimKeep: 1000, trimLottery: [2, 10] }))!;
    assert.deepEqual(redis.ingest, redisIngest({ host: 'redis', database: 2 }, 'laravel_database_', { maxLength: 1000 }, [2, 10]));
    const overridden = toPulse({ ...none, ingest_driver: 'redis', redis_connection: 'other' }, 15, context(REGISTERED))!;
    assert.deepEqual((overridden.ingest as { trim: unknown }).trim, { keepMs: 7 * 86_400_000 });
    assert.equal((overridden.ingest as { redis: { database: number } }).redis.database, 0);
    assert.throws(() => toPulse(none, 15, context({ ...REGISTERED, ingestDriver: 'kafka' })), /pulse\.ingest\.driver = "kafka"/);
    assert.throws(() => toPulse(none, 15, context({ ...REGISTERED, ingestDriver: 'redis', trimKeep: 'soon' })), /pulse\.ingest\.trim\.keep = "soon"/);
    assert.throws(() => toPulse(none, 0, context(REGISTERED)), /servers\.reverb\.pulse_ingest_interval = 0/);
  });

  it("read intervals as CarbonInterval::fromString does for Pulse's trim.keep", () => {
    assert.equal(intervalMilliseconds('7 days'), 7 * 86_400_000);
    assert.equal(intervalMilliseconds('1 day 12 hours'), 36 * 3_600_000);
    assert.equal(intervalMilliseconds('90m'), 90 * 60_000);
    assert.equal(intervalMilliseconds('2 weeks'), 14 * 86_400_000);
    assert.equal(intervalMilliseconds('1000'), undefined);
    assert.equal(intervalMilliseconds('7 fortnights'), undefined);
  });
});

describe('config/pulse.php', () => {
  it("is read without php as far as it can be: Name::class through the use imports, Pulse's own calls left out", () => {
    const skipped: string[] = [];
    const config = evaluatePhpConfig(PULSE_PHP, { env: {}, basePath: dirname(PULSE_PHP), displayName: 'config/pulse.php', skipUnsupported: (where) => skipped.push(where) }) as {
      recorders: Record<string, Record<string, unknown>>;
      middleware: string[];
    };
    assert.deepEqual(config.middleware, ['web', 'Laravel\\Pulse\\Http\\Middleware\\Authorize']);
    assert.deepEqual(Object.keys(config.recorders), [
      'Laravel\\Pulse\\Recorders\\CacheInteractions',
      'Laravel\\Pulse\\Recorders\\Servers',
      'Laravel\\Pulse\\Recorders\\SlowRequests',
      'Laravel\\Reverb\\Pulse\\Recorders\\ReverbConnections',
      'Laravel\\Reverb\\Pulse\\Recorders\\ReverbMessages',
    ]);
    assert.deepEqual(config.recorders['Laravel\\Reverb\\Pulse\\Recorders\\ReverbMessages'], { enabled: true, sample_rate: 1 });
    // ...Pulse::defaultVendorCacheKeys() and gethostname() are left out, nothing else.
    const lines = readFileSync(PULSE_PHP, 'utf8').split('\n');
    assert.deepEqual(
      skipped.map((where) => lines[Number(where.split(':')[1]) - 1]!.trim()),
      ['...Pulse::defaultVendorCacheKeys(),', "'server_name' => env('PULSE_SERVER_NAME', gethostname()),"],
    );
  });

  for (const [mode, env] of [
    ['php', {}],
    ['read without php', { REVERB_PHP: 'false' }],
  ] as const) {
    it(`turns recording on and sets its sample rate, driver and connection (${mode})`, async () => {
      const dir = laravelProject({
        'config/pulse.php': readFileSync(PULSE_PHP, 'utf8'),
        '.env': 'PULSE_INGEST_DRIVER=redis\nPULSE_REDIS_CONNECTION=cache\nREDIS_PREFIX=shop:\nREDIS_CACHE_DB=3\nREVERB_MESSAGES_SAMPLE_RATE=0.25\n',
      });
      const config = await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...APP_ENV, ...env } });
      const pulse = config.server.pulse!;
      assert.equal(pulse.sampleRate, 0.25);
      // PHP without the application cannot call Pulse::defaultVendorCacheKeys(): the evaluator reads it then.
      assert.equal(pulse.source, 'config/pulse.php (read without php)');
      assert.deepEqual(pulse.ingest, redisIngest({ database: 3 }, 'shop:', { keepMs: 7 * 86_400_000 }, [1, 1000]));

      const off = await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...APP_ENV, ...env, REVERB_MESSAGES_RECORDER: 'false' } });
      assert.equal(off.server.pulse, null, 'the recorder disabled in config/pulse.php');
      const pulseOff = await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...APP_ENV, ...env, PULSE_ENABLED: 'false', REVERB_PULSE_ENABLED: 'true' } });
      assert.equal(pulseOff.server.pulse, null, 'Pulse disabled');
      const mine = await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...APP_ENV, ...env, REVERB_PULSE_SAMPLE_RATE: '0.5', PULSE_INGEST_DRIVER: 'storage', DB_CONNECTION: 'pgsql' } });
      assert.equal(mine.server.pulse!.sampleRate, 0.5);
      assert.equal(mine.server.pulse!.ingest.driver, 'storage');

      // Without calls to Pulse's classes, PHP reads the file itself.
      writeFileSync(join(dir, 'config/pulse.php'), readFileSync(PULSE_PHP, 'utf8').replace('...Pulse::defaultVendorCacheKeys(),', ''));
      const plain = (await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...APP_ENV, ...env } })).server.pulse!;
      assert.equal(plain.source, `config/pulse.php (${mode})`);
      assert.equal(plain.sampleRate, 0.25);
    });
  }

  it('is taken from the cached configuration, as PHP evaluates it when it can', async () => {
    const cached = `<?php return array (
  'reverb' => array ('servers' => array ('reverb' => array ('host' => '0.0.0.0', 'port' => 8080)), 'apps' => array ('apps' => array (array ('key' => 'key', 'secret' => 'secret', 'app_id' => '1')))),
  'database' => array ('redis' => array ('options' => array ('prefix' => 'cached_'), 'pulse' => array ('host' => 'redis.internal', 'port' => '6380', 'database' => '4'))),
  'pulse' => array (
    'enabled' => true,
    'ingest' => array ('driver' => 'redis', 'trim' => array ('lottery' => array (1, 1), 'keep' => 500), 'redis' => array ('connection' => 'pulse')),
    'recorders' => array ('Laravel\\\\Reverb\\\\Pulse\\\\Recorders\\\\ReverbMessages' => array ('sample_rate' => 0.5)),
  ),
);`;
    const dir = laravelProject({ 'bootstrap/cache/config.php': cached });
    for (const env of [{}, { REVERB_PHP: 'false' }]) {
      const pulse = (await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, ...env } })).server.pulse!;
      assert.equal(pulse.sampleRate, 0.5);
      assert.match(pulse.source!, /^bootstrap\/cache\/config\.php/);
      assert.deepEqual(pulse.ingest, redisIngest({ host: 'redis.internal', port: 6380, database: 4 }, 'cached_', { maxLength: 500 }, [1, 1]));
    }
    // An object Pulse's section holds (var_export writes __set_state calls) is left out without php, not fatal.
    writeFileSync(join(dir, 'bootstrap/cache/config.php'), cached.replace("'enabled' => true,", "'enabled' => true, 'retain' => \\Carbon\\CarbonInterval::__set_state(array ()),"));
    const withObject = (await loadConfig({ cwd: dir, env: { PATH: process.env.PATH, REVERB_PHP: 'false' } })).server.pulse!;
    assert.equal(withObject.sampleRate, 0.5);
  });
});
