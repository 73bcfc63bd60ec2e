/**
 * The database provider's memory (src/apps/cached-provider.ts) over an
 * in-memory table: what is answered without the store, how misses are
 * batched, what an outage serves, and which changes listeners hear of.
 * The real tables (MariaDB, PostgreSQL) are driven by test/e2e/apps-*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CachedApplicationProvider } from '../../src/apps/cached-provider.js';
import type { AppStore, RawApp } from '../../src/apps/store.js';
import { ApplicationsUnavailable } from '../../src/protocol/apps.js';

class TableInMemory implements AppStore {
  readonly rows = new Map<string, RawApp>();
  queries: string[][] = [];
  failing = false;

  add(id: string, extra: RawApp = {}): void {
    this.rows.set(id, { app_id: id, key: `${id}-key`, secret: `${id}-secret`, ...extra });
  }

  private async answer(values: readonly string[], field: 'key' | 'app_id'): Promise<RawApp[]> {
    this.queries.push([...values]);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing) throw new Error('connect ECONNREFUSED');
    return [...this.rows.values()].filter((row) => values.includes(String(row[field])));
  }

  findByKeys(keys: readonly string[]): Promise<RawApp[]> {
    return this.answer(keys, 'key');
  }

  findByIds(ids: readonly string[]): Promise<RawApp[]> {
    return this.answer(ids, 'app_id');
  }

  all(): Promise<RawApp[]> {
    return Promise.resolve([...this.rows.values()]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function provider(store: AppStore, clock: { now: number }, messages: string[] = []) {
  return new CachedApplicationProvider(store, {
    ttlSeconds: 60,
    source: 'reverb_apps (test)',
    warn: (message) => messages.push(`warn: ${message}`),
    recovered: (message) => messages.push(`info: ${message}`),
    now: () => clock.now,
  });
}

describe('cached application provider', () => {
  it('answers a looked-up app and an unknown key from memory until the TTL passes', async () => {
    const store = new TableInMemory();
    store.add('1');
    const clock = { now: 0 };
    const apps = provider(store, clock);
    assert.equal((await apps.findByKey('1-key'))?.id, '1');
    assert.equal(await apps.findByKey('nope'), undefined);
    assert.equal(store.queries.length, 2);
    // Held: answered synchronously, no query.
    assert.equal((apps.findByKey('1-key') as { id: string }).id, '1');
    assert.equal((apps.findById('1') as { id: string }).id, '1');
    assert.equal(apps.findByKey('nope'), undefined);
    assert.equal(store.queries.length, 2);
    clock.now = 61_000;
    // Past the TTL an unknown key is asked again; a held app is answered at once and read again behind it.
    store.add('2', { key: 'nope' });
    assert.equal((await apps.findByKey('nope'))?.id, '2');
    assert.equal((apps.findByKey('1-key') as { id: string }).id, '1');
    await apps.close();
  });

  it('sends a burst of distinct unknown keys to the store in a few queries, and each repeated key once', async () => {
    const store = new TableInMemory();
    const apps = provider(store, { now: 0 });
    const keys = Array.from({ length: 1200 }, (_, index) => `unknown-${index % 600}`);
    const answers = await Promise.all(keys.map((key) => apps.findByKey(key)));
    assert.ok(answers.every((answer) => answer === undefined));
    assert.ok(store.queries.length <= 3, `${store.queries.length} queries`);
    assert.equal(new Set(store.queries.flat()).size, 600);
    assert.equal(store.queries.flat().length, 600);
    await apps.close();
  });

  it('starts lookup queries at least 100 ms apart however fast distinct unknown keys arrive', async () => {
    const store = new TableInMemory();
    const apps = new CachedApplicationProvider(store, { ttlSeconds: 60, source: 'test', warn: () => undefined, recovered: () => undefined });
    const started = performance.now();
    const lookups: Promise<unknown>[] = [];
    for (let index = 0; index < 60; index++) {
      lookups.push(Promise.resolve(apps.findByKey(`flood-${index}`)));
      // One key per turn of the event loop: without the spacing, nearly each would be a query of its own.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(new Set(await Promise.all(lookups)), new Set([undefined]));
    const elapsed = performance.now() - started;
    assert.ok(store.queries.length <= 1 + Math.ceil(elapsed / 100), `${store.queries.length} queries in ${elapsed.toFixed(0)} ms`);
    assert.equal(store.queries.flat().length, 60);
    await apps.close();
  });

  it('keeps serving held apps through an outage, refuses unknown keys, and says so once', async () => {
    const store = new TableInMemory();
    store.add('1');
    const clock = { now: 0 };
    const messages: string[] = [];
    const apps = provider(store, clock, messages);
    await apps.findByKey('1-key');
    store.failing = true;
    clock.now = 120_000;
    assert.equal((apps.findByKey('1-key') as { id: string }).id, '1');
    await assert.rejects(async () => apps.findByKey('other'), ApplicationsUnavailable);
    // Within a second of a failure the store is not asked again.
    const before = store.queries.length;
    assert.throws(() => apps.findByKey('third'), ApplicationsUnavailable);
    assert.equal((apps.findByKey('1-key') as { id: string }).id, '1');
    assert.equal(store.queries.length, before);
    assert.equal(messages.filter((line) => line.startsWith('warn')).length, 1);
    assert.ok(!messages.join('\n').includes('1-secret'));
    store.failing = false;
    clock.now = 122_000;
    assert.equal(await apps.findByKey('other'), undefined);
    assert.match(messages.at(-1)!, /^info: .*answers again/);
    await apps.close();
  });

  it('tells listeners of a changed or deleted app when it is read again, and forget() reads it at once', async () => {
    const store = new TableInMemory();
    store.add('1');
    const apps = provider(store, { now: 0 });
    const changed: string[] = [];
    apps.onChange((id) => changed.push(id));
    await apps.findById('1');
    store.add('1', { secret: 'rotated' });
    apps.forget('1');
    assert.equal((await apps.findById('1'))?.secret, 'rotated');
    assert.equal((apps.findByKey('1-key') as { secret: string }).secret, 'rotated');
    store.rows.delete('1');
    apps.forget('1');
    assert.equal(await apps.findById('1'), undefined);
    assert.equal(await apps.findByKey('1-key'), undefined);
    // forget() drops the app before it is read again: that read is the app's first, not a change.
    assert.deepEqual(changed, []);
    await apps.close();
  });

  it('leaves out a row the schema refuses, naming it once, without its secret', async () => {
    const store = new TableInMemory();
    store.add('bad', { max_connections: 'lots' });
    const messages: string[] = [];
    const apps = provider(store, { now: 0 }, messages);
    assert.equal(await apps.findByKey('bad-key'), undefined);
    apps.forget('bad');
    assert.equal(await apps.findByKey('bad-key'), undefined);
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /max_connections = "lots"/);
    assert.ok(!messages[0]!.includes('bad-secret'));
    await apps.close();
  });
});
