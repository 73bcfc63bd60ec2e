/**
 * Which `reverb start` processes run from a working directory on this machine,
 * so `reverb restart` reaches them without scaling. One JSON file per pid in a
 * private folder under os.tmpdir(), keyed by a hash of the real working
 * directory. A server removes its file when it exits; files of processes that
 * died without doing so (SIGKILL, power loss) are pruned by whoever lists them.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerEntry {
  readonly pid: number;
  readonly cwd: string;
  readonly host: string;
  readonly port: number;
  /** Seconds the server may take to shut down gracefully (restart waits that long). */
  readonly shutdownTimeout: number;
  readonly startedAt: string;
  /** The kernel's start time of the process, so a recycled pid is not mistaken for the server. */
  readonly processStart?: string;
}

/** The folder of one working directory's servers; `root` is os.tmpdir() outside tests. */
export function registryDir(cwd: string, root = tmpdir()): string {
  const key = createHash('sha256').update(realpathSync(cwd)).digest('hex').slice(0, 16);
  return join(root, `reverb-ts-${process.getuid?.() ?? 'user'}`, key);
}

/**
 * Checks (and with `create`, makes) the folder private to this user. In a
 * shared /tmp another user could pre-create it and plant records naming
 * processes to signal, so a folder that is not ours is refused.
 */
function privateDir(dir: string, create: boolean): void {
  const parent = join(dir, '..');
  if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  for (const path of [parent, dir]) {
    const stat = lstatSync(path);
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) {
      throw new Error(`${path} is not a directory owned by this user`);
    }
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined where there is no /proc. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True while the process that wrote `entry` runs (and is signalable by us). */
export function isRunning(entry: ServerEntry): boolean {
  try {
    process.kill(entry.pid, 0);
  } catch {
    // ESRCH: gone. EPERM: the pid now belongs to another user's process.
    return false;
  }
  return entry.processStart === undefined || processStartTime(entry.pid) === entry.processStart;
}

/** Records this process as a server of `entry.cwd`; the record is removed when the process exits. */
export function registerServer(
  entry: Omit<ServerEntry, 'pid' | 'startedAt' | 'processStart'>,
  root?: string,
): () => void {
  const dir = registryDir(entry.cwd, root);
  const file = join(dir, `${process.pid}.json`);
  const record: ServerEntry = {
    ...entry,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    processStart: processStartTime(process.pid),
  };
  privateDir(dir, true);
  // Servers that were killed (SIGKILL, crashes) never removed their records:
  // tidy every other directory's folder, whose working directory may be long gone.
  const userDir = join(dir, '..');
  for (const other of readdirSync(userDir)) if (join(userDir, other) !== dir) liveRecords(join(userDir, other));
  for (let attempt = 1; ; attempt++) {
    privateDir(dir, true);
    try {
      // Written aside and renamed, so a concurrent `reverb restart` never reads half a record.
      writeFileSync(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      break;
    } catch (error) {
      // The last server of this directory may have removed the folder meanwhile: once more.
      if (attempt > 1 || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const unregister = () => {
    process.off('exit', unregister);
    try {
      unlinkSync(file);
      // The last server of a directory leaves no empty folder behind.
      rmdirSync(dir);
    } catch {
      // Already removed, or other servers of this directory still run.
    }
  };
  process.on('exit', unregister);
  return unregister;
}

/** Whether the server's record is still there (it disappears when the server exits). */
export function isRegistered(entry: ServerEntry, root?: string): boolean {
  try {
    lstatSync(join(registryDir(entry.cwd, root), `${entry.pid}.json`));
    return true;
  } catch {
    return false;
  }
}

/** The live records of one registry folder; records of dead processes are deleted, an emptied folder too. */
function liveRecords(dir: string): ServerEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^\d+\.json$/.test(name));
  } catch {
    return [];
  }
  const live: ServerEntry[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let entry: ServerEntry | undefined;
    try {
      entry = JSON.parse(readFileSync(file, 'utf8')) as ServerEntry;
    } catch {
      // Unreadable: treated like a stale record.
    }
    if (entry && isRunning(entry)) live.push(entry);
    else {
      try {
        unlinkSync(file);
      } catch {
        // Removed concurrently by its exiting server.
      }
    }
  }
  if (live.length === 0) {
    try {
      rmdirSync(dir);
    } catch {
      // A server is registering there right now (it retries), or a .tmp file remains.
    }
  }
  return live;
}

/** The servers running from `cwd`, oldest first; records of dead processes are deleted. */
export function runningServers(cwd: string, root?: string): ServerEntry[] {
  const dir = registryDir(cwd, root);
  if (!existsSync(dir)) return [];
  privateDir(dir, false);
  return liveRecords(dir).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
