/**
 * PHP's serialize() for the few value kinds Laravel Pulse's ingest stream
 * holds: what `serialize($entry)` gives for a `Laravel\Pulse\Entry`, byte for
 * byte, so that Pulse's `pulse:work` unserializes it (RedisIngest::digest()).
 */

/** A PHP object: its class and its properties in declaration order. */
export interface PhpObject {
  readonly className: string;
  readonly properties: readonly PhpProperty[];
}

export interface PhpProperty {
  readonly name: string;
  readonly visibility: 'public' | 'protected';
  readonly value: PhpSerializable;
}

export type PhpSerializable = null | boolean | number | string | readonly PhpSerializable[] | PhpObject;

/** `s:<bytes>:"…";` — the length counts UTF-8 bytes, the content is not escaped. */
function string(value: string): string {
  return `s:${Buffer.byteLength(value)}:"${value}";`;
}

/** Protected properties are stored under "\0*\0name". */
function propertyKey(property: PhpProperty): string {
  return string(property.visibility === 'protected' ? `\0*\0${property.name}` : property.name);
}

export function phpSerialize(value: PhpSerializable): string {
  if (value === null) return 'N;';
  if (typeof value === 'boolean') return `b:${value ? 1 : 0};`;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`only integers are serialized here, not ${value}`);
    return `i:${value};`;
  }
  if (typeof value === 'string') return string(value);
  if (Array.isArray(value)) return `a:${value.length}:{${value.map((item, index) => `i:${index};${phpSerialize(item)}`).join('')}}`;
  const object = value as PhpObject;
  const body = object.properties.map((property) => propertyKey(property) + phpSerialize(property.value)).join('');
  return `O:${Buffer.byteLength(object.className)}:"${object.className}":${object.properties.length}:{${body}}`;
}

/**
 * `(new Entry($timestamp, $type, $key))->onlyBuckets()->count()` as Reverb's
 * ReverbMessages recorder makes it, serialized: Pulse's Entry declares
 * `protected array $aggregations` and `protected bool $onlyBuckets` before its
 * promoted constructor properties `timestamp`, `type`, `key`, `value`.
 */
export function serializeCountEntry(timestamp: number, type: string, key: string): string {
  return phpSerialize({
    className: 'Laravel\\Pulse\\Entry',
    properties: [
      { name: 'aggregations', visibility: 'protected', value: ['count'] },
      { name: 'onlyBuckets', visibility: 'protected', value: true },
      { name: 'timestamp', visibility: 'public', value: timestamp },
      { name: 'type', visibility: 'public', value: type },
      { name: 'key', visibility: 'public', value: key },
      { name: 'value', visibility: 'public', value: null },
    ],
  });
}
