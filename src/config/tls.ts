/**
 * `servers.reverb.options.tls`: Reverb's PHP SSL-context names (local_cert,
 * local_pk, passphrase, cafile) and Node's (cert, key, ca), each as a file
 * path or PEM text. Null entries are ignored, so TLS is only on when a
 * certificate is really given (Reverb issue #105). Without one, a Herd/Valet
 * certificate for the hostname is used when there is one. verify_peer and
 * allow_self_signed are accepted and ignored: in PHP they govern client
 * certificates, which Pusher clients never present.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from './types.js';
import { ConfigError } from './errors.js';
import { findSiteCertificate } from './certificates.js';

const PEM_NAMES = {
  cert: ['local_cert', 'cert'],
  key: ['local_pk', 'key'],
  ca: ['cafile', 'ca'],
} as const;

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'a directory, not a file',
};

interface Pem {
  /** The option it came from, for error messages. */
  readonly name: string;
  readonly text: string;
}

function invalid(name: string, value: unknown, problem: string): ConfigError {
  return new ConfigError(`Invalid configuration: servers.reverb.options.tls.${name} = ${JSON.stringify(value)} (${problem})`);
}

function readPem(name: string, value: string, baseDir: string): Pem {
  if (value.includes('-----BEGIN')) return { name, text: value };
  try {
    return { name, text: readFileSync(resolve(baseDir, value), 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw invalid(name, value, `cannot read the file: ${READ_ERRORS[code] ?? code}`);
  }
}

function pem(raw: Record<string, unknown>, names: readonly string[], baseDir: string): Pem | undefined {
  for (const name of names) {
    const value = raw[name];
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string') throw invalid(name, value, 'expected a file path or PEM text');
    return readPem(name, value, baseDir);
  }
  return undefined;
}

/** Fails at start-up, naming the option, when OpenSSL cannot use the certificate and key. */
function checkUsable(tls: TlsConfig, raw: Record<string, unknown>, cert: Pem): void {
  try {
    createSecureContext(tls);
  } catch (error) {
    const reason = (error as Error).message;
    if (/bad decrypt|passphrase/i.test(reason)) throw invalid('passphrase', '***', `cannot decrypt the private key: ${reason}`);
    const value = raw[cert.name];
    const shown = typeof value === 'string' && !value.includes('-----BEGIN') ? value : '<PEM text>';
    throw invalid(cert.name, shown, `not a usable certificate and private key: ${reason}`);
  }
}

export function readTlsOptions(raw: Record<string, unknown>, baseDir: string, hostname: string | null = null): TlsConfig | null {
  const cert = pem(raw, PEM_NAMES.cert, baseDir);
  const key = pem(raw, PEM_NAMES.key, baseDir);
  const ca = pem(raw, PEM_NAMES.ca, baseDir);
  if (!cert) {
    if (key) throw invalid('local_cert', null, 'expected a certificate to go with local_pk');
    const site = hostname ? findSiteCertificate(hostname) : undefined;
    if (!site) return null;
    return { cert: readPem('local_cert', site.cert, baseDir).text, key: readPem('local_pk', site.key, baseDir).text };
  }
  const passphrase = typeof raw.passphrase === 'string' ? raw.passphrase : undefined;
  // With local_cert alone, PHP reads the private key from the same PEM file.
  const tls: TlsConfig = { cert: cert.text, key: (key ?? cert).text, ca: ca?.text, passphrase };
  checkUsable(tls, raw, cert);
  return tls;
}
