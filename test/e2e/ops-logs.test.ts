import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createServer } from 'node:net';
import { DEFAULT_APP, freePort, startServer } from '../helpers/server.js';
import { signedRequest } from '../helpers/sign.js';
import { RawClient } from '../helpers/ws-client.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0 && existsSync('/proc/self/limits');

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('logs', () => {
  for (const [name, options] of [
    ['--log-format json', { args: ['--log-format', 'json'] }],
    ['NODE_ENV=production', { env: { NODE_ENV: 'production' } }],
  ] as const) {
    it(`are JSON lines with ${name}`, async () => {
      const server = await startServer(options);
      assert.equal(await server.stop(), 0);
      const lines = jsonLines(server.output());
      const banner = lines.find((line) => String(line.msg).startsWith('Starting server on'));
      assert.ok(banner, server.output());
      assert.equal(banner.msg, `Starting server on 127.0.0.1:${server.port}`);
      assert.equal(banner.level, 'info');
      assert.match(String(banner.time), /^\d{4}-\d\d-\d\dT/);
      assert.ok(lines.some((line) => line.msg === `Stopping server on 127.0.0.1:${server.port}`));
    });
  }

  it('are readable lines otherwise', async () => {
    const server = await startServer();
    await server.stop();
    assert.match(server.output(), new RegExp(`^\\[[\\d:.]+\\] INFO: Starting server on 127\\.0\\.0\\.1:${server.port}$`, 'm'));
  });

  it('log start-up errors in one line and exit 1', async () => {
    const port = await freePort();
    const occupant = createServer();
    await new Promise<void>((resolve) => occupant.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(
        startServer({ server: { port } }),
        new RegExp(`server exited with 1 before starting:\\n.*Cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use\\n$`),
      );
    } finally {
      occupant.close();
    }
  });

  it('never contain the secret of a configured app, even with --debug', async () => {
    const server = await startServer({ args: ['--debug', '--log-format', 'json'] });
    const client = await RawClient.connect(`${server.wsUrl}/app/${DEFAULT_APP.key}`);
    try {
      const reply = await client.subscribe('private-orders', { key: DEFAULT_APP.key, secret: DEFAULT_APP.secret });
      assert.equal(reply.event, 'pusher_internal:subscription_succeeded');
      const body = JSON.stringify({ name: 'shipped', channel: 'private-orders', data: '{}' });
      const sent = await signedRequest(server.url, { method: 'POST', path: `/apps/${DEFAULT_APP.app_id}/events`, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body });
      assert.equal(sent.status, 200);
      await client.nextEvent('shipped');
      const refused = await signedRequest(server.url, { method: 'POST', path: `/apps/${DEFAULT_APP.app_id}/events`, key: DEFAULT_APP.key, secret: 'wrong', body });
      assert.equal(refused.status, 401);
    } finally {
      client.close();
      await server.stop();
    }
    assert.match(server.output(), /"level":"debug"/);
    assert.ok(!server.output().includes(DEFAULT_APP.secret), server.output());
  });

  it('print the effective open-file limit with --debug', { skip: !existsSync('/proc/self/limits') && 'needs /proc' }, async () => {
    const server = await startServer({ args: ['--debug'] });
    await server.stop();
    assert.match(server.output(), /DEBUG: Open-file limit: (\d+|unlimited) \(hard limit (\d+|unlimited)\)/);
  });

  it('warn when the open-file limit is below the configured connection capacity', { skip: !hasPrlimit && 'needs prlimit and /proc' }, async () => {
    const apps = [
      { ...DEFAULT_APP, max_connections: 600 },
      { ...DEFAULT_APP, app_id: '2', key: 'key-2', max_connections: 600 },
    ];
    const server = await startServer({ apps, wrapper: ['prlimit', '--nofile=256:256'] });
    await server.stop();
    assert.match(
      server.output(),
      /WARN: The open-file limit \(256\) is below the configured capacity of 1200 connections \(sum of the apps' max_connections\)/,
    );
  });
});
