/**
 * PHP's serialize() of Laravel Pulse's Entry objects, as Pulse's Redis ingest
 * stream holds them: checked against known strings, then by PHP itself — a
 * copy of Pulse's Entry class serializes the same entry to the same bytes,
 * and unserialize() (with allowed_classes, as RedisIngest::digest() calls it)
 * gives back every field.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { phpSerialize, serializeCountEntry } from '../../src/pulse/php-serialize.js';

/** Laravel\Pulse\Entry as laravel/pulse 1.x declares it (src/Entry.php), trimmed to what serialize() sees. */
const ENTRY_CLASS = String.raw`
namespace Laravel\Pulse;
class Entry {
    protected array $aggregations = [];
    protected bool $onlyBuckets = false;
    public function __construct(public int $timestamp, public string $type, public string $key, public ?int $value = null) {}
    public function count(): static { $this->aggregations[] = 'count'; return $this; }
    public function onlyBuckets(): static { $this->onlyBuckets = true; return $this; }
    public function aggregations(): array { return $this->aggregations; }
    public function isOnlyBuckets(): bool { return $this->onlyBuckets; }
}
`;

function php(code: string, input: string): string {
  return execFileSync('php', ['-r', `${ENTRY_CLASS} namespace Main; ${code}`], { input, encoding: 'utf8' });
}

describe('PHP serialize()', () => {
  it('writes scalars, lists and objects as PHP does', () => {
    assert.equal(phpSerialize(null), 'N;');
    assert.equal(phpSerialize(true), 'b:1;');
    assert.equal(phpSerialize(false), 'b:0;');
    assert.equal(phpSerialize(-42), 'i:-42;');
    assert.equal(phpSerialize('é"x'), 's:4:"é"x";');
    assert.equal(phpSerialize(['a', 1]), 'a:2:{i:0;s:1:"a";i:1;i:1;}');
    assert.equal(
      phpSerialize({ className: 'A\\B', properties: [{ name: 'p', visibility: 'protected', value: 1 }, { name: 'q', visibility: 'public', value: null }] }),
      'O:3:"A\\B":2:{s:4:"\0*\0p";i:1;s:1:"q";N;}',
    );
    assert.throws(() => phpSerialize(1.5), RangeError);
  });

  it("serializes Reverb's message entry exactly as Pulse's Entry class", () => {
    assert.equal(
      serializeCountEntry(1764686400, 'reverb_message:sent', '123456'),
      'O:19:"Laravel\\Pulse\\Entry":6:{s:15:"\0*\0aggregations";a:1:{i:0;s:5:"count";}s:14:"\0*\0onlyBuckets";b:1;' +
        's:9:"timestamp";i:1764686400;s:4:"type";s:19:"reverb_message:sent";s:3:"key";s:6:"123456";s:5:"value";N;}',
    );
  });

  it('gives the bytes PHP gives, and PHP reads back every field', () => {
    const cases = [
      [1764686400, 'reverb_message:sent', '123456'],
      [1764686401, 'reverb_message:received', 'äpp "quoted";}'],
    ] as const;
    for (const [timestamp, type, key] of cases) {
      const ours = serializeCountEntry(timestamp, type, key);
      const theirs = php(
        `[$t, $type, $key] = json_decode(stream_get_contents(STDIN)); echo serialize((new \\Laravel\\Pulse\\Entry($t, $type, $key))->onlyBuckets()->count());`,
        JSON.stringify([timestamp, type, key]),
      );
      assert.equal(ours, theirs);
      const read = php(
        `$e = unserialize(stream_get_contents(STDIN), ['allowed_classes' => [\\Laravel\\Pulse\\Entry::class]]);
         echo json_encode([get_class($e), $e->timestamp, $e->type, $e->key, $e->value, $e->aggregations(), $e->isOnlyBuckets()]);`,
        ours,
      );
      assert.deepEqual(JSON.parse(read), ['Laravel\\Pulse\\Entry', timestamp, type, key, null, ['count'], true]);
    }
  });
});
