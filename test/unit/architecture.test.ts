/**
 * Dependencies between the folders of src/ point one way: the protocol owns
 * the interfaces it needs (socket, cluster, channel events) and the
 * transports, the cluster, webhooks and the rest plug into it. No folder may
 * import a folder that (directly or through others) imports it back.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The top-level folder of src/ a file is in ('' for files directly in src/). */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    if (from === '') continue;
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const to = folderOf(resolve(file, '..', specifier!));
      if (to === '' || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

describe('architecture', () => {
  it('has no cycle between the folders of src/', () => {
    const graph = folderGraph();
    const reaches = (from: string, target: string, seen = new Set<string>()): boolean => {
      for (const next of graph.get(from) ?? []) {
        if (next === target) return true;
        if (!seen.has(next) && (seen.add(next), reaches(next, target, seen))) return true;
      }
      return false;
    };
    for (const [from, targets] of graph) {
      for (const to of targets) assert.ok(!reaches(to, from), `${from} imports ${to}, which leads back to ${from}`);
    }
  });

  it('keeps the protocol free of transports, the cluster and webhooks', () => {
    const protocol = [...(folderGraph().get('protocol') ?? [])];
    assert.deepEqual(protocol.filter((folder) => ['transport', 'cluster', 'webhooks', 'http'].includes(folder)), []);
  });
});
