import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificates, type TestCertificates } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { DEFAULT_APP, startServer } from '../helpers/server.js';
import { pusherTlsClient, triggerOverHttps } from '../helpers/tls.js';
import { RawClient } from '../helpers/ws-client.js';

let dir: string;
let certs: TestCertificates;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'reverb-tls-'));
  certs = createCertificates(dir, { names: ['laravel.test'], passphrase: 'correct horse' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS', () => {
  it('serves wss:// and https:// from options.tls (Reverb names, encrypted key); pusher-js connects trusting the test CA', async () => {
    const server = await startServer({
      server: { options: { tls: { local_cert: certs.cert, local_pk: certs.key, passphrase: 'correct horse', verify_peer: false } } },
    });
    const client = pusherTlsClient(certs.caCert, server.port, 'orders');
    try {
      assert.match(server.output(), new RegExp(`Starting secure server on 127\\.0\\.0\\.1:${server.port}`));
      await client.waitFor('connected');
      await client.waitFor('subscribed');
      const response = await triggerOverHttps(certs.caCert, server.port, 'orders', { id: 7 });
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
