import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificates, type TestCertificates } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_APP, startServer } from '../helpers/server.js';
import { signedQuery } from '../helpers/sign.js';
import { RawClient } from '../helpers/ws-client.js';

const CLIENT = resolve(import.meta.dirname, '../helpers/pusher-tls-client.ts');

let dir: string;
let certs: TestCertificates;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reverb-tls-'));
  certs = createCertificates(dir, { names: ['laravel.test'], passphrase: 'correct horse' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** pusher-js in a child process that trusts only the test CA; resolves its JSON lines as they come. */
function pusherClient(port: number, channel: string) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLIENT, DEFAULT_APP.key, '127.0.0.1', String(port), channel], {
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: certs.caCert },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts.map((line) => JSON.parse(line) as Record<string, unknown>));
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    async waitFor(type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((line) => line.type === type);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${type} from pusher-js: ${JSON.stringify(lines)} ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop(): Promise<void> {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      });
    },
  };
}

/** A signed HTTP API call over https, trusting the test CA. */
function httpsTrigger(port: number, body: string): Promise<{ status: number; body: string }> {
  const path = `/apps/${DEFAULT_APP.app_id}/events`;
  const query = new URLSearchParams(signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body })).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: `${path}?${query}`, method: 'POST', ca: readFileSync(certs.caCert), headers: { 'Content-Type': 'application/json' }, timeout: 5000 },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.end(body);
  });
}

describe('TLS', () => {
  it('serves wss:// and https:// from options.tls (Reverb names, encrypted key); pusher-js connects trusting the test CA', async () => {
    const server = await startServer({
      server: { options: { tls: { local_cert: certs.cert, local_pk: certs.key, passphrase: 'correct horse', verify_peer: false } } },
    });
    const client = pusherClient(server.port, 'orders');
    try {
      assert.match(server.output(), new RegExp(`Starting secure server on 127\\.0\\.0\\.1:${server.port}`));
      await client.waitFor('connected');
      await client.waitFor('subscribed');
      const body = JSON.stringify({ name: 'shipped', channel: 'orders', data: JSON.stringify({ id: 7 }) });
      const response = await httpsTrigger(server.port, body);
      assert.equal(response.status, 200, response.body);
      const message = await client.waitFor('message');
      assert.deepEqual(message, { type: 'message', event: 'shipped', data: { id: 7 } });
    } finally {
      await client.stop();
      assert.equal(await server.stop(), 0);
    }
  });

  it('accepts Node names with PEM text', async () => {
    const server = await startServer({
      server: { options: { tls: { cert: readFileSync(certs.cert, 'utf8'), key: readFileSync(certs.key, 'utf8'), passphrase: 'correct horse' } } },
    });
    try {
      const client = await RawClient.connect(`wss://127.0.0.1:${server.port}/app/${DEFAULT_APP.key}`, { ca: readFileSync(certs.caCert) });
      client.close();
    } finally {
      await server.stop();
    }
  });

  for (const [name, folder, hostname] of [
    ['Valet', ['.config', 'valet', 'Certificates'], 'laravel.test'],
    ['Herd', ['Library', 'Application Support', 'Herd', 'config', 'valet', 'Certificates'], 'https://laravel.test:8080'],
  ] as const) {
    it(`picks up the ${name} certificate of the --hostname site (${hostname})`, async () => {
      const home = mkdtempSync(join(tmpdir(), 'reverb-home-'));
      try {
        const certificates = join(home, ...folder);
        mkdirSync(certificates, { recursive: true });
        const plain = join(dir, 'plain.key'); // the unencrypted key, as Herd and Valet keep it
        copyFileSync(certs.cert, join(certificates, 'laravel.test.crt'));
        copyFileSync(plain, join(certificates, 'laravel.test.key'));
        const server = await startServer({ args: ['--hostname', hostname], env: { HOME: home } });
        try {
          assert.match(server.output(), new RegExp(`Starting secure server on 127\\.0\\.0\\.1:${server.port} \\(${hostname.replace(/[.:/]/g, '\\$&')}\\)`));
          const client = await RawClient.connect(`wss://127.0.0.1:${server.port}/app/${DEFAULT_APP.key}`, { ca: readFileSync(certs.caCert), servername: 'laravel.test' });
          client.close();
        } finally {
          await server.stop();
        }
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });
  }

  it('serves plain ws:// when the hostname has no Herd/Valet certificate', async () => {
    const home = mkdtempSync(join(tmpdir(), 'reverb-home-'));
    try {
      const server = await startServer({ args: ['--hostname', 'other.test'], env: { HOME: home } });
      assert.match(server.output(), /Starting server on 127\.0\.0\.1:\d+ \(other\.test\)/);
      await server.stop();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('stops with a one-line error naming the key when a certificate path is wrong', async () => {
    const work = mkdtempSync(join(tmpdir(), 'reverb-badcert-'));
    try {
      const config = { servers: { reverb: { host: '127.0.0.1', port: 0, options: { tls: { local_cert: '/nonexistent/cert.pem', local_pk: certs.key } } } } };
      writeFileSync(join(work, 'reverb.config.json'), JSON.stringify(config));
      const result = await runCli(['start'], { cwd: work });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(
        result.stderr,
        'Invalid configuration: servers.reverb.options.tls.local_cert = "/nonexistent/cert.pem" (cannot read the file: no such file)\n',
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('names the passphrase when it cannot decrypt the key, without printing it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'reverb-badpass-'));
    try {
      const config = { servers: { reverb: { host: '127.0.0.1', port: 0, options: { tls: { local_cert: certs.cert, local_pk: certs.key, passphrase: 'wrong guess' } } } } };
      writeFileSync(join(work, 'reverb.config.json'), JSON.stringify(config));
      const result = await runCli(['start'], { cwd: work });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^Invalid configuration: servers\.reverb\.options\.tls\.passphrase = "\*\*\*" \(cannot decrypt the private key: .*\)\n$/);
      assert.doesNotMatch(result.stderr, /wrong guess/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
