/**
 * The page and its files, shipped with the package in assets/dashboard/
 * (hand-written HTML, CSS and JavaScript; charts are drawn as SVG by the
 * script: no CDN, no build step). Read once when the dashboard starts.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const FOLDER = new URL('../../assets/dashboard/', import.meta.url);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

export interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

const FILES = ['dashboard.css', 'dashboard.js', 'icon.svg'] as const;

function load(name: string, replace: (text: string) => string = (text) => text): Asset {
  const body = replace(readFileSync(new URL(name, FOLDER), 'utf8'));
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** The page (with `base`, the dashboard's full path, filled in) and the files under `assets/`. */
export function loadAssets(base: string): { page: Asset; files: ReadonlyMap<string, Asset> } {
  const page = load('index.html', (text) => text.replaceAll('{{BASE}}', base));
  return { page, files: new Map(FILES.map((name) => [name, load(name)])) };
}
