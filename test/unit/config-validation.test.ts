import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { configSchema } from '../../src/config/schema.js';
import { nearestKey, unknownKeys } from '../../src/config/unknown-keys.js';

const dirs: string[] = [];
function project(files: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-validation-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const APP = { app_id: '1', key: 'key', secret: 'secret' };
const CREDENTIALS = { REVERB_APP_ID: '1', REVERB_APP_KEY: 'key', REVERB_APP_SECRET: 'secret' };

describe('unknown configuration keys', () => {
  it('are found at every level, with the nearest known key (typos and camelCase)', () => {
    const raw = {
      app: {},
      servers: { reverb: { prot: 8080, maxRequestSize: 1, scaling: { enabeld: true, server: { hots: 'x' } }, options: { tls: { anything: 1 } } } },
      apps: { apps: [{ ...APP, alowed_origins: ['x'], allowedOrigins: ['y'], rate_limiting: { max_attempt: 1 }, options: { host: 'h' } }] },
    };
    assert.deepEqual(unknownKeys(raw, configSchema), [
      'app (did you mean apps?)',
      'servers.reverb.prot (did you mean port?)',
      'servers.reverb.maxRequestSize (did you mean max_request_size?)',
      'servers.reverb.scaling.enabeld (did you mean enabled?)',
      'servers.reverb.scaling.server.hots (did you mean host?)',
      'apps.apps[0].alowed_origins (did you mean allowed_origins?)',
      'apps.apps[0].allowedOrigins (did you mean allowed_origins?)',
      'apps.apps[0].rate_limiting.max_attempt (did you mean max_attempts?)',
    ]);
  });

  it('know today’s keys from the schema itself, and Reverb’s Laravel-only keys', () => {
    const app = { ...APP, max_channels_per_connection: 1, max_presence_members_per_channel: 1, max_presence_user_info_size: 1, max_messages_per_second: 1, capacity: null };
    const server = { max_connections_per_ip_per_second: 1, trusted_proxies: [], pulse_ingest_interval: 15, telescope_ingest_interval: 15 };
    assert.deepEqual(unknownKeys({ default: 'reverb', servers: { reverb: server }, apps: { provider: 'config', apps: [app] } }, configSchema), []);
  });

  it('suggest nothing for a key unlike any known one', () => {
    assert.equal(nearestKey('completely_different', ['port', 'host']), undefined);
    assert.match(unknownKeys({ zzz: 1 }, configSchema)[0]!, /^zzz \(known keys here: default, servers, apps\)$/);
  });

  it('are a warning naming the source outside production', async () => {
    const dir = project({ 'reverb.config.json': { apps: { apps: [{ ...APP, alowed_origins: ['x'] }] } } });
    const config = await loadConfig({ cwd: dir, env: {} });
    assert.deepEqual(config.warnings, ['Unknown configuration key in reverb.config.json: apps.apps[0].alowed_origins (did you mean allowed_origins?)']);
  });

  for (const variable of ['APP_ENV', 'NODE_ENV']) {
    it(`are an error when ${variable}=production`, async () => {
      const dir = project({ 'reverb.config.json': { apps: { apps: [{ ...APP, allowedOrigins: ['x'] }] } } });
      await assert.rejects(
        loadConfig({ cwd: dir, env: { [variable]: 'production' } }),
        new RegExp(`allowedOrigins \\(did you mean allowed_origins\\?\\)\\nUnknown keys stop start-up when ${variable}=production`),
      );
    });
  }
});

describe('the development app', () => {
  it('is served when nothing at all is configured', async () => {
    const config = await loadConfig({ cwd: project(), env: {} });
    assert.equal(config.usingDevelopmentApp, true);
  });

  it('is never served in production', async () => {
    await assert.rejects(loadConfig({ cwd: project(), env: { APP_ENV: 'production' } }), /No app is configured: .*the development app is not served because APP_ENV=production/);
  });

  it('is not served when a config file exists, and a typo such as "app" is named', async () => {
    const dir = project({ 'reverb.config.json': { app: { apps: [APP] } } });
    await assert.rejects(
      loadConfig({ cwd: dir, env: {} }),
      /^Error: Unknown configuration key in reverb\.config\.json: app \(did you mean apps\?\)\nNo app is configured: .*because the configuration is read from reverb\.config\.json/,
    );
  });

  it('is not served when some REVERB_APP_* variable is set (in .env too)', async () => {
    const dir = project({ '.env': 'REVERB_APP_PING_INTERVAL=30\n' });
    await assert.rejects(loadConfig({ cwd: dir, env: {} }), /because REVERB_APP_PING_INTERVAL is set/);
  });

  it('gives way to the app of the environment', async () => {
    const config = await loadConfig({ cwd: project(), env: { ...CREDENTIALS } });
    assert.equal(config.usingDevelopmentApp, false);
    assert.equal(config.apps[0]!.key, 'key');
  });
});
