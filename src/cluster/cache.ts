/** Last event per cache channel with a TTL, kept whether or not anyone is subscribed. */

interface Entry {
  frame: string;
  expiresAt: number;
}

export class CacheStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  store(key: string, frame: string, ttlSeconds: number): void {
    // Re-insert so the map stays ordered by expiry time for cheap pruning.
    this.entries.delete(key);
    this.entries.set(key, { frame, expiresAt: this.now() + ttlSeconds * 1000 });
    this.prune();
  }

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.frame;
  }

  /** Drops expired entries from the front (oldest writes first), so memory stays bounded by the TTL. */
  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
