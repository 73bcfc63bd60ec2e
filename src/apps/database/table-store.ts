/**
 * The apps table through a SqlClient: the lookups of an AppStore (one
 * `where … in (…)` query per call, 500 values at most per query) and the
 * writes of the admin commands.
 */
import type { AppStore, RawApp } from '../store.js';
import type { AppAdmin } from './admin.js';
import { columnNamed, rowToRawApp, type AppRow } from './columns.js';
import type { SqlClient } from './sql-client.js';

const CHUNK = 500;

/** Laravel's timestamp format, in UTC. */
function now(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

function checkColumns(fields: AppRow): string[] {
  const names = Object.keys(fields);
  for (const name of names) if (!columnNamed(name)) throw new Error(`The apps table has no column ${name}`);
  return names;
}

export function tableStore(client: SqlClient, table: string): AppStore & AppAdmin {
  const from = `select * from ${client.quote(table)}`;
  const markers = (count: number, first = 1) => Array.from({ length: count }, (_, index) => client.placeholder(first + index)).join(', ');

  async function findBy(column: 'id' | 'key', values: readonly string[]): Promise<RawApp[]> {
    const wanted = new Set(values);
    const unique = [...wanted];
    const found: RawApp[] = [];
    for (let start = 0; start < unique.length; start += CHUNK) {
      const chunk = unique.slice(start, start + CHUNK);
      const rows = await client.select(`${from} where ${client.quote(column)} in (${markers(chunk.length)})`, chunk);
      // MySQL's default collations compare case-insensitively: keys and ids are matched exactly.
      found.push(...rows.filter((row) => wanted.has(String(row[column]))).map(rowToRawApp));
    }
    return found;
  }

  async function update(id: string, fields: AppRow): Promise<boolean> {
    const names = [...checkColumns(fields), 'updated_at'];
    const values = [...Object.values(fields), now()];
    const assignments = names.map((name, index) => `${client.quote(name)} = ${client.placeholder(index + 1)}`).join(', ');
    const sql = `update ${client.quote(table)} set ${assignments} where ${client.quote('id')} = ${client.placeholder(names.length + 1)}`;
    return (await client.execute(sql, [...values, id])) > 0;
  }

  const rows = () => client.select(`${from} order by ${client.quote('id')}`);

  return {
    findByKeys: (keys) => findBy('key', keys),
    findByIds: (ids) => findBy('id', ids),
    all: async () => (await rows()).map(rowToRawApp),
    rows,
    row: async (id) => (await client.select(`${from} where ${client.quote('id')} = ${client.placeholder(1)}`, [id]))[0],
    create: async (fields) => {
      const stamp = now();
      const names = [...checkColumns(fields), 'created_at', 'updated_at'];
      const values = [...Object.values(fields), stamp, stamp];
      await client.execute(`insert into ${client.quote(table)} (${names.map(client.quote).join(', ')}) values (${markers(names.length)})`, values);
    },
    update,
    delete: async (id) => (await client.execute(`delete from ${client.quote(table)} where ${client.quote('id')} = ${client.placeholder(1)}`, [id])) > 0,
    setEnabled: (id, enabled) => update(id, { enabled }),
    rotateSecret: (id, secret) => update(id, { secret }),
    close: () => client.close(),
  };
}
