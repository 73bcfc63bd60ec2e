import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { keepYoungGenerationSmall } from '../../src/ops/young-generation.js';

/**
 * A child process that (maybe) keeps the young generation small, then keeps
 * 30 000 connection-sized objects alive, as a burst of connections does, and
 * prints the new space's size in MB.
 */
function newSpaceAfterBurst(keepSmall: boolean, nodeFlags: string[] = []): number {
  const script = `
    import v8 from 'node:v8';
    import { keepYoungGenerationSmall } from ${JSON.stringify(new URL('../../src/ops/young-generation.ts', import.meta.url).href)};
    if (${keepSmall}) keepYoungGenerationSmall();
    const kept = [];
    for (let i = 0; i < 30000; i++) kept.push({ id: 'socket-' + i, channels: new Map([[i, i]]), frames: new Array(16).fill(i) });
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(space.space_size / 1048576, kept.length);
  `;
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  return Number(child.stdout.split(' ')[0]);
}

describe('young generation', () => {
  it('stays at its initial size through a burst of long-lived objects, where V8 alone grows it', () => {
    const grown = newSpaceAfterBurst(false);
    const kept = newSpaceAfterBurst(true);
    assert.ok(grown >= 8, `without the setting the new space grows (${grown} MB)`);
    assert.ok(kept <= 4, `with it the new space stays small (${kept} MB)`);
  });

  it("leaves the young generation alone when the user's Node flags size it", () => {
    assert.equal(keepYoungGenerationSmall(['--max-semi-space-size=8'], ''), false);
    assert.equal(keepYoungGenerationSmall([], '--max-old-space-size=512 --semi-space-growth-factor=2'), false);
    assert.ok(newSpaceAfterBurst(true, ['--max-semi-space-size=16']) >= 8);
  });
});
