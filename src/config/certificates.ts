/**
 * Laravel Herd / Valet site certificates, as Reverb's src/Certificate.php finds
 * them: when the hostname names a site secured with `herd secure` or
 * `valet secure`, its `<host>.crt` / `<host>.key` pair serves wss:// and
 * https:// without any TLS configuration.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The host part of `hostname` when it is a URL (https://laravel.test:8080), else `hostname` itself. */
export function certificateHost(hostname: string): string {
  try {
    return new URL(hostname).hostname || hostname;
  } catch {
    return hostname;
  }
}

/** Where Herd (macOS, then Windows) and Valet keep their site certificates, in Reverb's order. */
export function certificateDirectories(home: string = homedir()): string[] {
  return [
    join(home, 'Library', 'Application Support', 'Herd', 'config', 'valet', 'Certificates'),
    join(home, '.config', 'herd', 'config', 'valet', 'Certificates'),
    join(home, '.config', 'valet', 'Certificates'),
  ];
}

/** The certificate and key files for `hostname`, when Herd or Valet has both. */
export function findSiteCertificate(hostname: string, home?: string): { cert: string; key: string } | undefined {
  const host = certificateHost(hostname);
  for (const dir of certificateDirectories(home)) {
    const cert = join(dir, `${host}.crt`);
    const key = join(dir, `${host}.key`);
    if (existsSync(cert) && existsSync(key)) return { cert, key };
  }
  return undefined;
}
