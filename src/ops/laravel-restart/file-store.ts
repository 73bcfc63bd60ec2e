/**
 * Laravel's file cache store, read as FileStore::get does: the entry of a key
 * lives at {directory}/{sha1[0..2]}/{sha1[2..4]}/{sha1}, its first ten bytes
 * are the expiry as a Unix time (9999999999 for Cache::forever), the rest the
 * serialized value. An expired or missing entry reads as null.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export function fileStorePath(directory: string, key: string): string {
  const hash = createHash('sha1').update(key).digest('hex');
  return join(directory, hash.slice(0, 2), hash.slice(2, 4), hash);
}

export async function readFileStore(directory: string, key: string, now = Date.now()): Promise<string | null> {
  let contents: string;
  try {
    contents = await readFile(fileStorePath(directory, key), 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const expiry = Number(contents.slice(0, 10));
  if (!Number.isFinite(expiry) || Math.floor(now / 1000) >= expiry) return null;
  return contents.slice(10);
}
