/**
 * config/reverb.php read as Reverb reads it (php, the cached config, or the evaluator).
 *
 * Transport-independent: run once, in the ws pass of test/run.mjs.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, startServer, type StartedServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const PUBLISHED = resolve(import.meta.dirname, '../fixtures/laravel');
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A Laravel-shaped folder with the published config/reverb.php (edited as the docs say) and no reverb.config.*. */
async function startInLaravelProject(env: Record<string, string>): Promise<StartedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-laravel-'));
  dirs.push(dir);
  cpSync(PUBLISHED, dir, { recursive: true });
  return startServer({
    dir,
    noConfigFile: true,
    env: {
      REVERB_SERVER_HOST: '127.0.0.1',
      REVERB_SERVER_PORT: String(await freePort()),
      REVERB_APP_ID: '1001',
      REVERB_APP_KEY: 'laravel-key',
      REVERB_APP_SECRET: 'laravel-secret',
      ...env,
    },
  });
}

async function refusedOrigin(server: StartedServer): Promise<number> {
  const client = new RawClient(`${server.wsUrl}/app/laravel-key`, { headers: { Origin: 'https://evil.com' } });
  try {
    const error = await client.nextEvent('pusher:error');
    assert.equal(JSON.parse(error.data as string).code, 4009);
    return (await client.waitForClose()).code;
  } finally {
    client.close();
  }
}

for (const [mode, env] of [
  ['php', {}],
  ['read without php', { REVERB_PHP: 'false' }],
] as const) {
  describe(`config/reverb.php of the published shape (${mode})`, () => {
    it('is what the server runs with: origins, the second app, its message size', async (t) => {
      const server = await startInLaravelProject(env);
      t.after(() => server.stop());
      assert.match(server.output(), new RegExp(`Configuration: environment, config/reverb\\.php \\(${mode}\\)`));

      assert.equal(await refusedOrigin(server), 4009);
      const allowed = await RawClient.connect(`${server.wsUrl}/app/laravel-key`, { headers: { Origin: 'https://chat.app.test' } });
      allowed.close();

      const admin = await RawClient.connect(`${server.wsUrl}/app/admin-key`, { headers: { Origin: 'https://evil.com' } });
      admin.send({ event: 'client-big', channel: 'private-x', data: 'x'.repeat(2500) });
      assert.equal((await admin.waitForClose()).code, 1009, 'the admin app’s max_message_size of 2000 applies');
    });
  });
}
