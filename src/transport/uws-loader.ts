/**
 * Loads uWebSockets.js only when its native binary works on this Node.
 *
 * Two installs are candidates, in this order:
 * 1. the project's own `uWebSockets.js` (resolved from the working directory),
 *    e.g. an official release installed from GitHub: reverb-ts's optional
 *    dependency nests below node_modules/reverb-ts when the project installs
 *    its own, so resolving from reverb-ts alone would never see it;
 * 2. reverb-ts's optional dependency, a registry republish of uWS.js v20.30
 *    with binaries for Node 16 to 20 only.
 * The first whose binary loads wins; when none does, the reason names each.
 *
 * Registry republishes (such as @trufflesuite/uws-js-unofficial) silently
 * fall back to a slow pure-JavaScript shim when no binary matches the Node
 * ABI; that shim would defeat the point of the transport, so it counts as
 * "unavailable". The native binary is required directly first: the package's
 * own loader then returns that cached module and cannot fall back.
 *
 * The Linux binaries are built for glibc: on musl (Alpine) none is tried, and
 * a binary that needs a newer glibc than the system's is reported as such.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { UwsModule } from './uws-api.js';

export const UWS_PACKAGE = 'uWebSockets.js';

export type UwsAvailability =
  | { readonly available: true; readonly uws: UwsModule; readonly description: string }
  | { readonly available: false; readonly reason: string };

interface Candidate {
  /** How the start-up line names where it came from ('' for reverb-ts's own). */
  readonly origin: string;
  readonly require: NodeJS.Require;
  readonly entry: string;
}

let cached: UwsAvailability | undefined;

function packageRoot(entry: string): string {
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function resolveWith(require: NodeJS.Require, origin: string): Candidate | undefined {
  try {
    return { origin, require, entry: require.resolve(UWS_PACKAGE) };
  } catch {
    return undefined;
  }
}

function candidates(): Candidate[] {
  const own = resolveWith(createRequire(import.meta.url), '');
  const project = resolveWith(createRequire(join(process.cwd(), 'package.json')), "the project's ");
  // In a plain install the project's copy is reverb-ts's own, hoisted.
  const distinct = project && project.entry !== own?.entry ? project : undefined;
  return [distinct, own].filter((candidate) => candidate !== undefined);
}

/** glibc's version on Linux ('' where Linux runs another C library, e.g. musl), undefined elsewhere. */
function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  return report.header.glibcVersionRuntime ?? '';
}

function probe({ origin, require, entry }: Candidate, glibc: string | undefined): UwsAvailability {
  const root = packageRoot(entry);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string };
  const release = `${origin}${pkg.name ?? UWS_PACKAGE}@${pkg.version ?? '?'}`;
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
    const message = String((error as Error).message ?? error).split('\n')[0]!;
    const needed = /GLIBC_([\d.]+)' not found/.exec(message)?.[1];
    return {
      available: false,
      reason: needed
        ? `${release}: ${file} needs glibc ${needed} or newer, this system has glibc ${glibc}`
        : `${release}: ${file} does not load (${message})`,
    };
  }
  if (require(UWS_PACKAGE) !== native) {
    return { available: false, reason: `${release} loads a JavaScript fallback instead of ${file}` };
  }
  return { available: true, uws: native as UwsModule, description: `${release}, native ${file}` };
}

function load(): UwsAvailability {
  const found = candidates();
  if (found.length === 0) return { available: false, reason: `the optional dependency ${UWS_PACKAGE} is not installed` };
  const glibc = glibcVersion();
  if (glibc === '') {
    // A glibc binary is not even tried: under a compatibility layer such as gcompat it may crash instead of failing.
    return { available: false, reason: `${UWS_PACKAGE} is built for glibc and this Linux has another C library (musl, as on Alpine): use a glibc-based system or image (Debian, Ubuntu)` };
  }
  const failures: string[] = [];
  for (const candidate of found) {
    const result = probe(candidate, glibc);
    if (result.available) {
      // Say why the project's own install was passed over for the bundled one.
      return failures.length ? { ...result, description: `${result.description}; skipped: ${failures.join('; ')}` } : result;
    }
    failures.push(result.reason);
  }
  const noBinary = failures.some((reason) => reason.includes('has no native binary'));
  return { available: false, reason: failures.join('; ') + (noBinary ? '; see docs/transports.md for builds for newer Node versions' : '') };
}

/** Whether uWebSockets.js is usable natively here (probed once per process). */
export function uwsAvailability(): UwsAvailability {
  return (cached ??= load());
}
