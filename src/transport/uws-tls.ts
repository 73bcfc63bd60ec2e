/**
 * uWebSockets.js's SSLApp reads its certificate and key from files only,
 * while the config may hold PEM text: write them to a private temporary
 * folder for the moment the app is built, then remove them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransportOptions } from './types.js';
import type { UwsApp, UwsModule } from './uws-api.js';

type Tls = NonNullable<TransportOptions['tls']>;

export function createSslApp(uws: UwsModule, tls: Tls): UwsApp {
  const dir = mkdtempSync(join(tmpdir(), 'reverb-tls-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    // uSockets' ca_file_name would demand client certificates; like Node's
    // `ca` for a server, the CA only completes the chain served to clients.
    writeFileSync(cert, tls.ca ? `${tls.cert.trimEnd()}\n${tls.ca}` : tls.cert, { mode: 0o600 });
    writeFileSync(key, tls.key, { mode: 0o600 });
    return uws.SSLApp({ cert_file_name: cert, key_file_name: key, passphrase: tls.passphrase });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
