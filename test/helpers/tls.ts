/**
 * Clients for wss:// and https:// tests that trust only the test's own CA:
 * pusher-js in a child process (Node reads NODE_EXTRA_CA_CERTS only at
 * process start, and pusher-js takes no CA option) and signed API calls.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { resolve } from 'node:path';
import { DEFAULT_APP } from './server.js';
import { signedQuery } from './sign.js';

const CLIENT = resolve(import.meta.dirname, 'pusher-tls-client.ts');

export interface TlsPusherClient {
  /** The first line of that type the client printed (connected, subscribed, message, error). */
  waitFor(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function pusherTlsClient(caCert: string, port: number, channel: string): TlsPusherClient {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, DEFAULT_APP.key, '127.0.0.1', String(port), channel], {
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: caCert },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts.map((line) => JSON.parse(line) as Record<string, unknown>));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    async waitFor(type, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((line) => line.type === type);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${type} from pusher-js: ${JSON.stringify(lines)} ${stderr}`);
        await new Promise((wake) => setTimeout(wake, 20));
      }
    },
    stop() {
      return new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill();
      });
    },
  };
}

/** An https request to 127.0.0.1 trusting `caCert`; `body` makes it a signed POST /events. */
export function httpsRequest(caCert: string, port: number, path: string, body?: string): Promise<{ status: number; body: string }> {
  let target = path;
  if (body !== undefined) {
    const query = signedQuery({ method: 'POST', path, key: DEFAULT_APP.key, secret: DEFAULT_APP.secret, body });
    target = `${path}?${new URLSearchParams(query).toString()}`;
  }
  return new Promise((done, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: target,
        method: body === undefined ? 'GET' : 'POST',
        ca: readFileSync(caCert),
        headers: { 'Content-Type': 'application/json' },
        timeout: 5000,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.end(body);
  });
}

/** Publishes `shipped` with `data` to `channel` through the HTTP API. */
export function triggerOverHttps(caCert: string, port: number, channel: string, data: unknown): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ name: 'shipped', channel, data: JSON.stringify(data) });
  return httpsRequest(caCert, port, `/apps/${DEFAULT_APP.app_id}/events`, body);
}
