/** Laravel's database cache store on SQLite, read with PHP's PDO (one short php run per look). */
import { execFile } from 'node:child_process';
import type { SqliteStoreConfig } from '../../config/laravel/cache-store.js';
import { current, type Row } from './database-store.js';
import type { CacheReader } from './reader.js';

const SCRIPT = String.raw`
[, $file, $table, $key] = $argv;
$db = new PDO('sqlite:'.$file, null, null, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$query = $db->prepare('SELECT "value", "expiration" FROM "'.str_replace('"', '""', $table).'" WHERE "key" = ? LIMIT 1');
$query->execute([$key]);
echo json_encode($query->fetch(PDO::FETCH_ASSOC) ?: null, JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
`;

export function openSqliteStore(store: SqliteStoreConfig): CacheReader {
  const read = () =>
    new Promise<string | null>((resolve, reject) => {
      execFile(store.php, ['-r', SCRIPT, '--', store.file, store.table, store.key], { timeout: 10_000 }, (error, stdout, stderr) => {
        if (error) return reject(new Error((stderr.trim() || error.message).split('\n')[0]));
        resolve(current((JSON.parse(stdout) as Row | null) ?? undefined, Date.now()));
      });
    });
  return { read, close: () => undefined };
}
