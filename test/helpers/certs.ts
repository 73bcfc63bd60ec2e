/**
 * Real certificates for TLS tests, made with the openssl CLI: a throw-away CA
 * and a server certificate it signs for the given names (plus localhost and
 * 127.0.0.1), so clients can verify the server by trusting only that CA.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe', timeout: 20_000 });
}

/** Writes ca.crt, server.crt and server.key (unencrypted, or encrypted with `passphrase`) into `dir`. */
export function createCertificates(dir: string, options: { names?: string[]; passphrase?: string } = {}): TestCertificates {
  const names = ['localhost', ...(options.names ?? [])];
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  openssl(['req', '-x509', ...ec, '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=reverb-ts test CA'], dir);
  openssl(['req', ...ec, '-nodes', '-keyout', 'plain.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`], dir);
  const san = [...names.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  if (options.passphrase) {
    openssl(['pkey', '-in', 'plain.key', '-out', 'server.key', '-aes256', '-passout', `pass:${options.passphrase}`], dir);
  } else {
    openssl(['pkey', '-in', 'plain.key', '-out', 'server.key'], dir);
  }
  return { caCert: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}
