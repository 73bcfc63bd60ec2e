import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startCluster } from '../helpers/cluster.js';
import { DEFAULT_APP, freePort, startServer, type StartedServer } from '../helpers/server.js';
import { RawClient } from '../helpers/ws-client.js';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The servers and `reverb restart` share a private TMPDIR: the registry of this test only. */
function isolatedEnv(): Record<string, string> {
  return { TMPDIR: tempDir('reverb-restart-tmp-') };
}

async function startFrom(dir: string, env: Record<string, string>): Promise<StartedServer> {
  const port = await freePort();
  return startServer({ dir, noConfigFile: true, env: { ...env, REVERB_SERVER_HOST: '127.0.0.1', REVERB_SERVER_PORT: String(port), REVERB_APP_ID: DEFAULT_APP.app_id, REVERB_APP_KEY: DEFAULT_APP.key, REVERB_APP_SECRET: DEFAULT_APP.secret } });
}

describe('reverb restart', () => {
  it('gracefully stops every server started from the same directory; each exits 0', async () => {
    const env = isolatedEnv();
    const dir = tempDir('reverb-restart-');
    const servers = [await startFrom(dir, env), await startFrom(dir, env)];
    const elsewhere = await startFrom(tempDir('reverb-restart-other-'), env);
    const clients = await Promise.all(servers.map((server) => RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`)));
    try {
      const result = await runCli(['restart'], { cwd: dir, env });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /Broadcasting Reverb restart signal\./);
      assert.match(result.stdout, /^2 servers acknowledged the restart\.$/m);
      for (const server of servers) assert.match(result.stdout, new RegExp(`stopped: 127\\.0\\.0\\.1:${server.port} \\(pid ${server.process.pid}\\)`));
      for (const client of clients) {
        const error = await client.nextEvent('pusher:error');
        assert.equal(JSON.parse(error.data as string).code, 4200);
        assert.equal((await client.waitForClose()).code, 4200);
      }
      for (const server of servers) {
        assert.equal(await server.stop(), 0);
        assert.match(server.output(), /Received SIGTERM: gracefully terminating connections\./);
        assert.match(server.output(), /Stopping server on 127\.0\.0\.1:\d+/);
      }
      assert.equal(elsewhere.process.exitCode, null, 'a server of another directory keeps running');
    } finally {
      for (const client of clients) client.close();
      for (const server of servers) await server.stop('SIGKILL');
      assert.equal(await elsewhere.stop(), 0);
    }
  });

  it('reports when no server runs from the directory, and prunes servers that died without unregistering', async () => {
    const env = isolatedEnv();
    const dir = tempDir('reverb-restart-');
    const crashed = await startFrom(dir, env);
    await crashed.stop('SIGKILL');
    const result = await runCli(['restart'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /No running Reverb server was started from .* on this machine\./);

    const survivor = await startFrom(dir, env);
    const again = await runCli(['restart'], { cwd: dir, env });
    assert.match(again.stdout, /^1 server acknowledged the restart\.$/m);
    assert.equal(await survivor.stop(), 0);
  });
});

describe('reverb restart with scaling', () => {
  it('reaches every server on the same Redis and scaling channel, whatever their directory', async () => {
    const cluster = await startCluster(2, { env: isolatedEnv() });
    const outsider = await startServer();
    try {
      const env = { REVERB_SCALING_ENABLED: 'true', REVERB_SCALING_CHANNEL: cluster.namespace, REDIS_URL: cluster.redis.url };
      const result = await runCli(['restart'], { cwd: tempDir('reverb-restart-scaling-'), env });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`^2 servers acknowledged the restart \\(Redis channel "${cluster.namespace}"\\)\\.$`, 'm'));
      assert.match(result.stdout, /^2 of the 2 servers in the cluster have shut down\.$/m);
      for (const server of cluster.servers) {
        assert.equal(await server.stop(), 0);
        assert.match(server.output(), /Restart broadcast through Redis: gracefully terminating connections\./);
      }
      assert.equal(outsider.process.exitCode, null, 'a server without scaling is not affected');
    } finally {
      await cluster.stop();
      await outsider.stop();
    }
  });

  it('falls back to this directory’s servers when Redis cannot be reached', async () => {
    const env = isolatedEnv();
    const dir = tempDir('reverb-restart-');
    const server = await startFrom(dir, env);
    const unreachable = { ...env, REVERB_SCALING_ENABLED: 'true', REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const result = await runCli(['restart'], { cwd: dir, env: unreachable });
    assert.match(result.stderr, /Cannot reach Redis \(.*\): restarting the servers started from this directory only\./);
    assert.match(result.stdout, /^1 server acknowledged the restart\.$/m);
    assert.equal(await server.stop(), 0);
  });
});
