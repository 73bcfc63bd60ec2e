/**
 * PHP values as the config-file evaluator (evaluate.ts) computes with them,
 * and PHP's conversion rules for the operations config files use, so a file
 * evaluated here gives what `php` would give (then json_encode'd).
 */

/** PHP's ordered map: keys are ints or strings, numeric-string keys become ints, as in PHP. */
export class PhpArray {
  readonly entries = new Map<number | string, PhpValue>();
  private nextIndex = 0;

  static list(values: readonly PhpValue[]): PhpArray {
    const array = new PhpArray();
    for (const value of values) array.push(value);
    return array;
  }

  push(value: PhpValue): void {
    this.entries.set(this.nextIndex, value);
    this.nextIndex++;
  }

  set(key: PhpValue, value: PhpValue): void {
    const normalised = arrayKey(key);
    this.entries.set(normalised, value);
    if (typeof normalised === 'number' && normalised >= this.nextIndex) this.nextIndex = normalised + 1;
  }

  values(): PhpValue[] {
    return [...this.entries.values()];
  }

  /** json_encode's rule: keys 0..n-1 in order make a JSON list, anything else an object. */
  isList(): boolean {
    let expected = 0;
    for (const key of this.entries.keys()) if (key !== expected++) return false;
    return true;
  }
}

/** A callable value: an arrow function or a built-in named by a string. */
export interface PhpCallable {
  readonly call: (args: PhpValue[]) => PhpValue;
}

export type PhpValue = null | boolean | number | string | PhpArray | PhpCallable;

export function isCallable(value: PhpValue): value is PhpCallable {
  return typeof value === 'object' && value !== null && !(value instanceof PhpArray);
}

/** PHP's array-key cast: "8" -> 8, true -> 1, null -> "", 1.7 -> 1. */
function arrayKey(key: PhpValue): number | string {
  if (typeof key === 'string') return /^(0|-?[1-9][0-9]*)$/.test(key) && Number.isSafeInteger(Number(key)) ? Number(key) : key;
  if (typeof key === 'number') return Math.trunc(key);
  if (typeof key === 'boolean') return key ? 1 : 0;
  if (key === null) return '';
  throw new TypeError('Illegal offset type');
}

/** PHP 8's numeric strings: optional whitespace, sign, digits, fraction, exponent. */
const NUMERIC = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/;

export function isNumericString(value: string): boolean {
  return NUMERIC.test(value);
}

export function toBool(value: PhpValue): boolean {
  if (value instanceof PhpArray) return value.entries.size > 0;
  if (typeof value === 'string') return value !== '' && value !== '0';
  if (typeof value === 'object' && value !== null) return true;
  return Boolean(value);
}

export function toStr(value: PhpValue): string {
  if (value === null || value === false) return '';
  if (value === true) return '1';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  throw new TypeError(value instanceof PhpArray ? 'Array to string conversion' : 'Closure to string conversion');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NAN';
  if (!Number.isFinite(value)) return value > 0 ? 'INF' : '-INF';
  // PHP writes large and small floats as 1.0E+25; JavaScript as 1e+25.
  return String(value).replace(/^(-?\d+)e/, '$1.0e').replace('e', 'E');
}

/** (int) / intval(): the leading number of a string, truncated; "abc" -> 0. */
export function toInt(value: PhpValue): number {
  const number = typeof value === 'string' ? leadingNumber(value) : toNumberLoose(value);
  return Number.isFinite(number) ? Math.trunc(number) : 0;
}

/** (float) / floatval(). */
export function toFloat(value: PhpValue): number {
  return typeof value === 'string' ? leadingNumber(value) : toNumberLoose(value);
}

function leadingNumber(text: string): number {
  const match = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(text);
  return match ? Number(match[0].trim()) : 0;
}

function toNumberLoose(value: PhpValue): number {
  if (value === null || value === false) return 0;
  if (value === true) return 1;
  if (typeof value === 'number') return value;
  if (value instanceof PhpArray) return value.entries.size > 0 ? 1 : 0;
  throw new TypeError('Closure to number conversion');
}

/** An operand of arithmetic: PHP 8 refuses non-numeric strings and arrays with a TypeError. */
export function toArithmetic(value: PhpValue): number {
  if (typeof value === 'string') {
    if (!isNumericString(value)) throw new TypeError(`Unsupported operand: non-numeric string "${value}"`);
    return Number(value.trim());
  }
  if (value instanceof PhpArray || isCallable(value)) throw new TypeError('Unsupported operand types');
  return toNumberLoose(value);
}

function sameArray(a: PhpArray, b: PhpArray, equal: (x: PhpValue, y: PhpValue) => boolean, ordered: boolean): boolean {
  if (a.entries.size !== b.entries.size) return false;
  const bKeys = [...b.entries.keys()];
  let index = 0;
  for (const [key, value] of a.entries) {
    if (ordered && bKeys[index++] !== key) return false;
    if (!b.entries.has(key) || !equal(value, b.entries.get(key)!)) return false;
  }
  return true;
}

export function strictEquals(a: PhpValue, b: PhpValue): boolean {
  if (a instanceof PhpArray && b instanceof PhpArray) return sameArray(a, b, strictEquals, true);
  return a === b;
}

/** PHP 8's `==`. */
export function looseEquals(a: PhpValue, b: PhpValue): boolean {
  if (a instanceof PhpArray || b instanceof PhpArray) {
    return a instanceof PhpArray && b instanceof PhpArray ? sameArray(a, b, looseEquals, false) : false;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean' || a === null || b === null) {
    if (a === null && typeof b === 'string') return b === '';
    if (b === null && typeof a === 'string') return a === '';
    return toBool(a) === toBool(b);
  }
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'string' && typeof b === 'string') {
    return isNumericString(a) && isNumericString(b) ? Number(a.trim()) === Number(b.trim()) : a === b;
  }
  if (typeof a === 'number' && typeof b === 'string') return isNumericString(b) ? a === Number(b.trim()) : toStr(a) === b;
  if (typeof a === 'string' && typeof b === 'number') return looseEquals(b, a);
  return a === b;
}

/** PHP 8's `<=>` for scalars: numbers (and numeric strings) numerically, other strings byte-wise. */
export function compare(a: PhpValue, b: PhpValue): number {
  if (a instanceof PhpArray || b instanceof PhpArray || isCallable(a) || isCallable(b)) {
    throw new TypeError('Comparing arrays or closures is not supported');
  }
  if (typeof a === 'string' && typeof b === 'string' && !(isNumericString(a) && isNumericString(b))) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean' || a === null || b === null) {
    return Number(toBool(a)) - Number(toBool(b));
  }
  const x = typeof a === 'string' ? (isNumericString(a) ? Number(a.trim()) : NaN) : a;
  const y = typeof b === 'string' ? (isNumericString(b) ? Number(b.trim()) : NaN) : b;
  // A number against a non-numeric string compares as strings (PHP 8).
  if (Number.isNaN(x) || Number.isNaN(y)) return compare(toStr(a), toStr(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What json_encode would write, as a plain JavaScript value (the shape every config source has). */
export function toJson(value: PhpValue): unknown {
  if (value instanceof PhpArray) {
    if (value.isList()) return value.values().map(toJson);
    const object: Record<string, unknown> = {};
    for (const [key, item] of value.entries) object[String(key)] = toJson(item);
    return object;
  }
  if (isCallable(value)) throw new TypeError('A closure cannot be a configuration value');
  return value;
}

