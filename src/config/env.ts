/**
 * Environment handling the way Laravel does it: `.env` is loaded first without
 * overriding variables already set, and values are read with Laravel's `env()`
 * conventions ("true"/"false"/"null"/"empty", optional quotes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'dotenv';
import { expand } from 'dotenv-expand';

export type Env = Readonly<Record<string, string | undefined>>;

/** Loads a .env file into `target` (process.env by default) without overriding what is set. */
export function loadEnvFile(file: string, target: NodeJS.ProcessEnv = process.env): boolean {
  if (!existsSync(file)) return false;
  const parsed = parse(readFileSync(file));
  // expand() interpolates ${VAR} references (Laravel .env files use them) and
  // writes into processEnv without overriding variables that are already set.
  expand({ parsed, processEnv: target as Record<string, string> });
  return true;
}

/**
 * Laravel's env(): special words become booleans/null, a value wrapped in
 * matching quotes loses them, everything else stays a string.
 */
export function envValue(env: Env, name: string): string | boolean | null | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  switch (raw.toLowerCase()) {
    case 'true':
    case '(true)':
      return true;
    case 'false':
    case '(false)':
      return false;
    case 'null':
    case '(null)':
      return null;
    case 'empty':
    case '(empty)':
      return '';
  }
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  return quoted ? quoted[2]! : raw;
}

/** env() with a default for missing variables (like Laravel's second argument). */
export function env<T>(vars: Env, name: string, fallback: T): string | boolean | null | T {
  const value = envValue(vars, name);
  return value === undefined ? fallback : value;
}
