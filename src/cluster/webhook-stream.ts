/**
 * The webhook journal of a Redis cluster node: every delivery it owes (and
 * every departure it holds for Pusher's window) is an entry of its stream
 * `ns:webhooks:<node>` until it is over. Writes are fire-and-forget, never
 * waited on by WebSocket traffic; when Redis is unavailable the entry is
 * simply not kept and delivery goes on from memory.
 *
 * A node that is no longer registered (removed as dead, or deregistered
 * with deliveries left) has its stream moved, once, into a live node's
 * stream by ADOPT_WEBHOOKS, and that node delivers the entries. Delivery is
 * at least once: a request in flight when its node died is sent again.
 */
import type { Redis } from 'ioredis';
import type { JournalEntry, JournalRecord, WebhookJournal } from '../webhooks/journal.js';
import type { RedisLink } from './redis-link.js';

export type RunScript = <T>(script: 'reverbClaimDeparture' | 'reverbAdoptWebhooks', ...args: (string | number)[]) => Promise<T>;

export interface WebhookStreamOptions {
  readonly command: Redis;
  readonly link: RedisLink;
  readonly ns: string;
  readonly nodeId: string;
  readonly run: RunScript;
}

/** Deletions remembered for a retry: beyond this, a Redis outage costs duplicates at a takeover rather than memory. */
const MAX_UNDELETED = 10_000;

export class WebhookStream implements WebhookJournal {
  private resume: ((entry: JournalEntry, record: JournalRecord) => void) | undefined;
  private readonly key: string;
  /** Entries over whose deletion failed (Redis unavailable): deleted at the next takeover check, not sent again by a taker. */
  private readonly undeleted: string[] = [];

  constructor(private readonly options: WebhookStreamOptions) {
    this.key = `${options.ns}:webhooks:${options.nodeId}`;
  }

  resumeWith(resume: (entry: JournalEntry, record: JournalRecord) => void): void {
    this.resume = resume;
  }

  record(entry: JournalEntry): JournalRecord {
    const { command, link, ns, nodeId } = this.options;
    // Listed with every entry: a stream taken over while this node was cut off (and still alive) is listed again.
    const write = () => command.pipeline().sadd(`${ns}:webhook_streams`, nodeId).xadd(this.key, '*', 'j', JSON.stringify(entry)).exec();
    const id = link.send(write).then(
      (results) => (results?.[1]?.[0] ? undefined : (results?.[1]?.[1] as string)),
      () => undefined,
    );
    return this.tracked(entry, id);
  }

  /** The record of an entry whose id is (or will be) `id`; undefined: not kept. */
  private tracked(entry: JournalEntry, id: Promise<string | undefined>): JournalRecord {
    const { link, nodeId, run } = this.options;
    let current = id;
    return {
      stands: async () => {
        const { event } = entry;
        const user = event.name === 'member_removed' ? event.user_id : '';
        const kept = await current;
        if (kept === undefined) return (await link.ask(() => run<number>('reverbClaimDeparture', entry.app, event.channel, user))) === 1;
        const plain = JSON.stringify({ app: entry.app, event, targets: entry.targets });
        const answer = link.ask(() => run<string | number>('reverbClaimDeparture', entry.app, event.channel, user, nodeId, kept, plain));
        // Unanswered: the entry stays as it was (still a departure).
        current = answer.then((next) => (next === 0 ? undefined : String(next)), () => kept);
        return (await answer) !== 0;
      },
      finished: () => {
        void current.then((kept) => kept !== undefined && this.delete([kept]));
      },
    };
  }

  private delete(ids: string[]): void {
    this.options.link.send(() => this.options.command.xdel(this.key, ...ids)).catch(() => {
      this.undeleted.push(...ids.slice(0, MAX_UNDELETED - this.undeleted.length));
    });
  }

  /** Periodic: retries failed deletions, takes over the streams of nodes that are gone; returns how many entries it took. */
  async adopt(): Promise<number> {
    if (this.undeleted.length > 0 && this.options.link.available) this.delete(this.undeleted.splice(0, 1000));
    const resume = this.resume;
    if (!resume || !this.options.link.available) return 0;
    const adopted = await this.options.link.send(() => this.options.run<[string, string][]>('reverbAdoptWebhooks', this.options.nodeId));
    for (const [id, json] of adopted) {
      const entry = JSON.parse(json) as JournalEntry;
      resume(entry, this.tracked(entry, Promise.resolve(id)));
    }
    return adopted.length;
  }
}
