/**
 * Loads uWebSockets.js only when its native binary works on this Node.
 *
 * Registry republishes of uWS.js (such as @trufflesuite/uws-js-unofficial)
 * silently fall back to a slow pure-JavaScript shim when no binary matches
 * the Node ABI; that shim would defeat the point of the transport, so it
 * counts as "unavailable". The native binary is required directly first: the
 * package's own loader then returns that cached module and cannot fall back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { UwsModule } from './uws-api.js';

export const UWS_PACKAGE = 'uWebSockets.js';

export type UwsAvailability =
  | { readonly available: true; readonly uws: UwsModule; readonly description: string }
  | { readonly available: false; readonly reason: string };

const require = createRequire(import.meta.url);
let cached: UwsAvailability | undefined;

function packageRoot(entry: string): string {
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function probe(): UwsAvailability {
  let entry: string;
  try {
    entry = require.resolve(UWS_PACKAGE);
  } catch {
    return { available: false, reason: `the optional dependency ${UWS_PACKAGE} is not installed` };
  }
  const root = packageRoot(entry);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string };
  const release = `${pkg.name ?? UWS_PACKAGE}@${pkg.version ?? '?'}`;
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  // The official release keeps binaries in the package root, the republish in binaries/.
  const binary = ['binaries', '.'].map((folder) => join(root, folder, file)).find((path) => existsSync(path));
  if (!binary) {
    return { available: false, reason: `${release} has no native binary for Node ${process.version} (${file})` };
  }
  let native: unknown;
  try {
    native = require(binary);
  } catch (error) {
    const message = String((error as Error).message ?? error).split('\n')[0];
    return { available: false, reason: `${release}: ${file} does not load (${message})` };
  }
  if (require(UWS_PACKAGE) !== native) {
    return { available: false, reason: `${release} loads a JavaScript fallback instead of ${file}` };
  }
  return { available: true, uws: native as UwsModule, description: `${release}, native ${file}` };
}

/** Whether uWebSockets.js is usable natively here (probed once per process). */
export function uwsAvailability(): UwsAvailability {
  return (cached ??= probe());
}
