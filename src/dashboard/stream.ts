/**
 * The debug console's Server-Sent Events: one `data:` line of JSON per event
 * of the app, optionally only some types or channels, a comment every 15
 * seconds so that proxies keep the connection open. Open streams are ended
 * when the server shuts down.
 */
import type { ResponseStream, StreamSink } from '../http/types.js';
import type { DebugEvent, DebugEventType, DebugFeed } from './feed.js';

const KEEP_ALIVE_MS = 15_000;

export interface StreamFilter {
  /** Only these types; empty = all. */
  readonly types: ReadonlySet<DebugEventType>;
  /** Only events whose channel contains this text; '' = all (connection events have no channel and are then left out). */
  readonly channel: string;
}

function matches(event: DebugEvent, filter: StreamFilter): boolean {
  if (filter.types.size > 0 && !filter.types.has(event.type)) return false;
  return filter.channel === '' || (event.channel !== undefined && event.channel.includes(filter.channel));
}

export class DebugStreams {
  private readonly open = new Set<StreamSink>();

  constructor(private readonly feed: DebugFeed) {}

  get count(): number {
    return this.open.size;
  }

  stream(appId: string, filter: StreamFilter): ResponseStream {
    return {
      open: (sink) => {
        this.open.add(sink);
        sink.write(`retry: 3000\n: watching ${appId}\n\n`);
        const stop = this.feed.watch(appId, (event) => {
          if (matches(event, filter)) sink.write(`data: ${JSON.stringify(event)}\n\n`);
        });
        const keepAlive = setInterval(() => sink.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
        keepAlive.unref();
        sink.onClose(() => {
          this.open.delete(sink);
          stop();
          clearInterval(keepAlive);
        });
      },
    };
  }

  closeAll(): void {
    for (const sink of [...this.open]) sink.end();
  }
}
