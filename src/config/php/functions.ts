/**
 * The PHP and Laravel functions and constants config files call, implemented
 * with PHP's semantics for the evaluator (evaluate.ts). Anything not here is
 * refused there with the file, line and name, rather than guessed at.
 */
import { join } from 'node:path';
import { envValue, type Env } from '../env.js';
import {
  PhpArray,
  isCallable,
  isNumericString,
  looseEquals,
  strictEquals,
  toBool,
  toFloat,
  toInt,
  toStr,
  type PhpValue,
} from './values.js';

export interface FunctionContext {
  readonly env: Env;
  /** The Laravel project's root, for base_path() and friends. */
  readonly basePath: string;
}

type Builtin = (args: PhpValue[], context: FunctionContext) => PhpValue;

const FILTER_VALIDATE_INT = 257;
const FILTER_VALIDATE_BOOLEAN = 258;
const FILTER_NULL_ON_FAILURE = 134217728;

export const CONSTANTS: Readonly<Record<string, PhpValue>> = {
  PHP_EOL: '\n',
  PHP_INT_MAX: Number.MAX_SAFE_INTEGER,
  DIRECTORY_SEPARATOR: '/',
  FILTER_VALIDATE_INT,
  FILTER_VALIDATE_BOOLEAN,
  FILTER_VALIDATE_BOOL: FILTER_VALIDATE_BOOLEAN,
  FILTER_NULL_ON_FAILURE,
};

function array(value: PhpValue, name: string): PhpArray {
  if (!(value instanceof PhpArray)) throw new TypeError(`${name}(): Argument must be of type array`);
  return value;
}

/** A closure, or a function named by a string ('trim'), as array_map and array_filter take them. */
function callback(value: PhpValue, context: FunctionContext): (args: PhpValue[]) => PhpValue {
  if (isCallable(value)) return value.call;
  const builtin = typeof value === 'string' ? FUNCTIONS[value.toLowerCase()] : undefined;
  if (builtin) return (args) => builtin(args, context);
  throw new TypeError(`Unsupported callback ${typeof value === 'string' ? `"${value}"` : ''}`.trim());
}

/** Laravel's env(): the special words, surrounding quotes removed, the default (a closure is called) when unset. */
function env([name, fallback = null]: PhpValue[], context: FunctionContext): PhpValue {
  const value = envValue(context.env, toStr(name ?? null));
  if (value !== undefined) return value;
  return isCallable(fallback) ? fallback.call([]) : fallback;
}

const PHP_WHITESPACE = ' \n\r\t\v\0';

function trimmer(start: boolean, end: boolean): Builtin {
  return ([text, characters]) => {
    const chars = characters === undefined ? PHP_WHITESPACE : toStr(characters);
    let value = toStr(text ?? null);
    if (start) while (value !== '' && chars.includes(value[0]!)) value = value.slice(1);
    if (end) while (value !== '' && chars.includes(value[value.length - 1]!)) value = value.slice(0, -1);
    return value;
  };
}

function explode([separator, text, limit]: PhpValue[]): PhpValue {
  const sep = toStr(separator ?? null);
  if (sep === '') throw new RangeError('explode(): Argument #1 ($separator) cannot be empty');
  let parts = toStr(text ?? null).split(sep);
  const max = limit === undefined ? Infinity : toInt(limit);
  if (max > 0 && parts.length > max) parts = [...parts.slice(0, max - 1), parts.slice(max - 1).join(sep)];
  else if (max < 0) parts = parts.slice(0, max);
  else if (max === 0) parts = [parts.join(sep)];
  return PhpArray.list(parts);
}

function implode(args: PhpValue[]): PhpValue {
  const [separator, pieces] = args.length === 1 ? ['', args[0]!] : args;
  return array(pieces!, 'implode').values().map(toStr).join(toStr(separator!));
}

function arrayFilter([input, predicate, mode]: PhpValue[], context: FunctionContext): PhpValue {
  if (mode !== undefined) throw new TypeError('array_filter() with a mode is not supported');
  const keep = predicate === undefined || predicate === null ? toBool : (value: PhpValue) => toBool(callback(predicate, context)([value]));
  const out = new PhpArray();
  for (const [key, value] of array(input!, 'array_filter').entries) if (keep(value)) out.set(key, value);
  return out;
}

function arrayMap([mapper, input, ...more]: PhpValue[], context: FunctionContext): PhpValue {
  if (more.length > 0) throw new TypeError('array_map() with several arrays is not supported');
  const source = array(input!, 'array_map');
  if (mapper === null) return source;
  const map = callback(mapper!, context);
  const out = new PhpArray();
  for (const [key, value] of source.entries) out.set(key, map([value]));
  return out;
}

function arrayMerge(args: PhpValue[]): PhpValue {
  const out = new PhpArray();
  for (const item of args) {
    for (const [key, value] of array(item, 'array_merge').entries) {
      if (typeof key === 'number') out.push(value);
      else out.set(key, value);
    }
  }
  return out;
}

function replaceAll(subject: string, search: PhpValue, replace: PhpValue): string {
  const searches = search instanceof PhpArray ? search.values().map(toStr) : [toStr(search)];
  const replacements = replace instanceof PhpArray ? replace.values().map(toStr) : undefined;
  return searches.reduce(
    (text, needle, index) => (needle === '' ? text : text.split(needle).join(replacements ? (replacements[index] ?? '') : toStr(replace))),
    subject,
  );
}

function strReplace([search, replace, subject]: PhpValue[]): PhpValue {
  if (subject instanceof PhpArray) {
    const out = new PhpArray();
    for (const [key, value] of subject.entries) out.set(key, replaceAll(toStr(value), search!, replace!));
    return out;
  }
  return replaceAll(toStr(subject ?? null), search!, replace!);
}

function filterVar([value, filter = null, options = 0]: PhpValue[]): PhpValue {
  const nullOnFailure = (toInt(options) & FILTER_NULL_ON_FAILURE) !== 0;
  const text = typeof value === 'boolean' ? (value ? '1' : '') : toStr(value ?? null).trim();
  if (filter === FILTER_VALIDATE_BOOLEAN) {
    const lower = text.toLowerCase();
    if (['1', 'true', 'on', 'yes'].includes(lower)) return true;
    if (['0', 'false', 'off', 'no', ''].includes(lower)) return false;
    return nullOnFailure ? null : false;
  }
  if (filter === FILTER_VALIDATE_INT) {
    return /^[+-]?(0|[1-9]\d*)$/.test(text) ? Number(text) : nullOnFailure ? null : false;
  }
  throw new TypeError('filter_var() supports FILTER_VALIDATE_BOOLEAN and FILTER_VALIDATE_INT only');
}

/** Laravel's path helpers: the folder under the project root, then the given path. */
function projectPath(folder: string): Builtin {
  return ([path = ''], context) => {
    const base = folder ? join(context.basePath, folder) : context.basePath;
    const rest = toStr(path).replace(/^\/+/, '');
    return rest === '' ? base : `${base}/${rest}`;
  };
}

export const FUNCTIONS: Readonly<Record<string, Builtin>> = {
  env,
  value: ([value = null, ...args]) => (isCallable(value) ? value.call(args) : value),
  explode,
  implode,
  join: implode,
  array_filter: arrayFilter,
  array_map: arrayMap,
  array_merge: arrayMerge,
  array_values: ([input]) => PhpArray.list(array(input!, 'array_values').values()),
  array_keys: ([input]) => PhpArray.list([...array(input!, 'array_keys').entries.keys()]),
  in_array: ([needle, haystack, strict]) =>
    array(haystack!, 'in_array').values().some((item) => (toBool(strict ?? false) ? strictEquals : looseEquals)(item, needle!)),
  count: ([input]) => array(input!, 'count').entries.size,
  str_replace: strReplace,
  trim: trimmer(true, true),
  ltrim: trimmer(true, false),
  rtrim: trimmer(false, true),
  strtolower: ([text]) => toStr(text ?? null).toLowerCase(),
  strtoupper: ([text]) => toStr(text ?? null).toUpperCase(),
  str_contains: ([haystack, needle]) => toStr(haystack ?? null).includes(toStr(needle ?? null)),
  str_starts_with: ([haystack, needle]) => toStr(haystack ?? null).startsWith(toStr(needle ?? null)),
  str_ends_with: ([haystack, needle]) => toStr(haystack ?? null).endsWith(toStr(needle ?? null)),
  intval: ([value]) => toInt(value ?? null),
  floatval: ([value]) => toFloat(value ?? null),
  boolval: ([value]) => toBool(value ?? null),
  strval: ([value]) => toStr(value ?? null),
  is_null: ([value]) => value === null,
  is_numeric: ([value]) => typeof value === 'number' || (typeof value === 'string' && isNumericString(value) && !/\s$/.test(value)),
  filter_var: filterVar,
  base_path: projectPath(''),
  app_path: projectPath('app'),
  config_path: projectPath('config'),
  database_path: projectPath('database'),
  public_path: projectPath('public'),
  resource_path: projectPath('resources'),
  storage_path: projectPath('storage'),
};
