/**
 * `servers.reverb.options.tls`: Reverb's PHP SSL-context names (local_cert,
 * local_pk, passphrase, cafile, verify_peer, allow_self_signed) and Node's
 * (cert, key, ca), each as a file path or PEM text. Null entries are ignored,
 * so TLS is only on when a certificate is really given (Reverb issue #105).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TlsConfig } from './types.js';
import { ConfigError } from './errors.js';

const PEM_NAMES = {
  cert: ['local_cert', 'cert'],
  key: ['local_pk', 'key'],
  ca: ['cafile', 'ca'],
} as const;

function pem(raw: Record<string, unknown>, names: readonly string[], baseDir: string): string | undefined {
  for (const name of names) {
    const value = raw[name];
    if (value === null || value === undefined || value === '') continue;
    if (typeof value !== 'string') {
      throw new ConfigError(
        `Invalid configuration: servers.reverb.options.tls.${name} = ${JSON.stringify(value)} (expected a file path or PEM text)`,
      );
    }
    if (value.includes('-----BEGIN')) return value;
    try {
      return readFileSync(resolve(baseDir, value), 'utf8');
    } catch (error) {
      throw new ConfigError(
        `Invalid configuration: servers.reverb.options.tls.${name} = ${JSON.stringify(value)} (cannot read the file: ${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
  }
  return undefined;
}

export function readTlsOptions(raw: Record<string, unknown>, baseDir: string): TlsConfig | null {
  const cert = pem(raw, PEM_NAMES.cert, baseDir);
  const key = pem(raw, PEM_NAMES.key, baseDir);
  const ca = pem(raw, PEM_NAMES.ca, baseDir);
  if (!cert) {
    if (key) {
      throw new ConfigError('Invalid configuration: servers.reverb.options.tls.local_cert = null (expected a certificate to go with local_pk)');
    }
    return null;
  }
  const passphrase = typeof raw.passphrase === 'string' ? raw.passphrase : undefined;
  // With local_cert alone, PHP reads the private key from the same PEM file.
  return { cert, key: key ?? cert, ca, passphrase };
}
