/**
 * docs/deployment.md, tried for real: its Nginx site block (TLS termination,
 * WebSocket upgrade headers) in front of `reverb start`, with pusher-js
 * connecting over wss:// and the HTTP API called over https://. Only names,
 * ports and certificate paths are changed. Skipped where nginx is not installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCertificates, type TestCertificates } from '../helpers/certs.js';
import { freePort, startServer, type StartedServer } from '../helpers/server.js';
import { httpsRequest, pusherTlsClient, triggerOverHttps } from '../helpers/tls.js';

const hasNginx = spawnSync('nginx', ['-v']).status === 0;
const DOCS = resolve(import.meta.dirname, '../../docs/deployment.md');

/** The documented site: the ```nginx block that listens on 443, adapted to this test's ports and files. */
function documentedSite(ports: { tls: number; http: number; upstream: number }, certs: TestCertificates): string {
  const blocks = [...readFileSync(DOCS, 'utf8').matchAll(/```nginx\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const site = blocks.find((block) => block.includes('listen 443 ssl;'));
  assert.ok(site, 'docs/deployment.md has an nginx block listening on 443');
  const adapted = site
    .replace('listen 443 ssl;', `listen 127.0.0.1:${ports.tls} ssl;`)
    .replace('listen 80;', `listen 127.0.0.1:${ports.http};`)
    .replace(/^\s*listen \[::\]:\d+.*$/gm, '')
    .replace(/ssl_certificate \S+;/, `ssl_certificate ${certs.cert};`)
    .replace(/ssl_certificate_key \S+;/, `ssl_certificate_key ${certs.key};`)
    .replace('proxy_pass http://127.0.0.1:8080;', `proxy_pass http://127.0.0.1:${ports.upstream};`);
  assert.ok(adapted.includes(`proxy_pass http://127.0.0.1:${ports.upstream};`), 'the documented proxy_pass was found');
  return adapted;
}

function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((done, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        done();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

describe('deployment guide: Nginx with TLS in front of reverb start', { skip: !hasNginx && 'nginx is not installed' }, () => {
  let dir: string;
  let certs: TestCertificates;
  let server: StartedServer;
  let nginx: ChildProcess;
  let nginxOutput = '';
  let tlsPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reverb-nginx-'));
    certs = createCertificates(dir);
    server = await startServer();
    tlsPort = await freePort();
    const site = documentedSite({ tls: tlsPort, http: await freePort(), upstream: server.port }, certs);
    for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        'daemon off;',
        'master_process off;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((temp) => `  ${temp === 'body' ? 'client_body' : temp}_temp_path ${dir}/${temp};`),
        site,
        '}',
      ].join('\n'),
    );
    nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout!.on('data', (chunk: Buffer) => (nginxOutput += chunk.toString()));
    nginx.stderr!.on('data', (chunk: Buffer) => (nginxOutput += chunk.toString()));
    await waitForPort(tlsPort).catch((error: Error) => {
      throw new Error(`${error.message}\n${nginxOutput}`);
    });
  });

  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((done) => nginx.once('exit', done));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers /up over https', async () => {
    const response = await httpsRequest(certs.caCert, tlsPort, '/up');
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { health: 'OK' });
  });

  it('carries pusher-js over wss:// and API events over https://', async () => {
    const client = pusherTlsClient(certs.caCert, tlsPort, 'orders');
    try {
      await client.waitFor('connected');
      await client.waitFor('subscribed');
      const response = await triggerOverHttps(certs.caCert, tlsPort, 'orders', { id: 9 });
      assert.equal(response.status, 200, response.body);
      assert.deepEqual(await client.waitFor('message'), { type: 'message', event: 'shipped', data: { id: 9 } });
    } finally {
      await client.stop();
    }
  });
});
