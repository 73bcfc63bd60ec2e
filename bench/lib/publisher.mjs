/**
 * The HTTP API side of a worker: POST /events or /batch_events with a
 * timestamp in every event, at a fixed rate or as fast as the server (and,
 * with flow control, its subscribers) keep up.
 */
import { Histogram } from './histogram.mjs';
import { SEQUENCE_MARKER, sleep, stampedData } from './clock.mjs';
import { HttpConnection } from './http-client.mjs';
import { signedQuery } from './pusher-sign.mjs';

/**
 * options: { rate: number | 'max', durationMs, concurrency, channels: string[],
 *   batchSize (0 = /events), payloadBytes, deliveriesPerEvent, maxOutstanding,
 *   sequenced, requestTimeoutMs }
 * `credit()` reports deliveries seen by the subscribers; with `maxOutstanding`
 * the publisher waits while more deliveries than that are still on their way.
 * `sequenced` numbers the events of each channel (`~s=N;` in the data, from
 * 0) so that receivers can tell a gap from an event sent before they joined;
 * `requestTimeoutMs` bounds each request (a server that stops answering then
 * counts failures instead of stalling the run); `stop()` ends the run early.
 */
export class Publisher {
  constructor(target, options) {
    this.target = target;
    this.options = options;
    this.sentEvents = 0;
    this.accepted = 0;
    this.failed = 0;
    this.errors = [];
    this.apiLatency = new Histogram();
    this.delivered = 0;
    this.creditWaiters = [];
    this.cursor = 0;
    this.sequences = new Map();
    this.acceptedByChannel = {};
  }

  stop() {
    this.deadline = 0;
    this.credit(this.delivered);
  }

  credit(delivered) {
    this.delivered = delivered;
    for (const wake of this.creditWaiters.splice(0)) wake();
  }

  async run() {
    const { concurrency, durationMs, localAddress } = this.options;
    const started = Date.now();
    this.deadline = started + durationMs;
    this.interval = this.options.rate === 'max' ? 0 : 1000 / this.options.rate;
    this.nextSlot = started;
    await Promise.all(
      Array.from({ length: concurrency }, () => this.loop(new HttpConnection({ ...this.target, localAddress }))),
    );
    return {
      sentEvents: this.sentEvents,
      accepted: this.accepted,
      failed: this.failed,
      errors: this.errors,
      seconds: (Date.now() - started) / 1000,
      apiLatency: this.apiLatency.toJSON(),
      acceptedByChannel: this.acceptedByChannel,
    };
  }

  async loop(connection) {
    const { batchSize } = this.options;
    const path = `/apps/${this.target.appId}/${batchSize ? 'batch_events' : 'events'}`;
    try {
      while (await this.permit()) {
        const batch = Array.from({ length: batchSize || 1 }, () => this.event());
        const events = batch.length;
        const body = JSON.stringify(batchSize ? { batch } : batch[0]);
        this.sentEvents += events;
        const query = signedQuery({ method: 'POST', path, body, key: this.target.key, secret: this.target.secret });
        const started = performance.now();
        try {
          const response = await connection.request('POST', `${path}?${query}`, body, this.options.requestTimeoutMs);
          this.apiLatency.record((performance.now() - started) * 1000);
          if (response.status === 200) this.accept(batch);
          else this.fail(events, `HTTP ${response.status} ${response.body.slice(0, 200)}`);
        } catch (error) {
          this.fail(events, error.message);
        }
      }
    } finally {
      connection.close();
    }
  }

  accept(batch) {
    this.accepted += batch.length;
    for (const { channel } of batch) this.acceptedByChannel[channel] = (this.acceptedByChannel[channel] ?? 0) + 1;
  }

  fail(events, message) {
    this.failed += events;
    if (this.errors.length < 5) this.errors.push(message);
  }

  event() {
    const { channels, payloadBytes } = this.options;
    const channel = channels[this.cursor++ % channels.length];
    const data = stampedData(payloadBytes);
    if (!this.options.sequenced) return { name: 'bench-event', channel, data };
    const sequence = this.sequences.get(channel) ?? 0;
    this.sequences.set(channel, sequence + 1);
    return { name: 'bench-event', channel, data: `${SEQUENCE_MARKER}${sequence};${data}` };
  }

  /** Waits for the next send slot; false once the run is over. */
  async permit() {
    const { maxOutstanding, deliveriesPerEvent } = this.options;
    if (this.interval > 0) {
      const slot = this.nextSlot;
      this.nextSlot += this.interval;
      if (slot > Date.now()) await sleep(slot - Date.now());
    }
    while (maxOutstanding && this.sentEvents * deliveriesPerEvent - this.delivered > maxOutstanding) {
      if (Date.now() >= this.deadline) return false;
      await new Promise((resolve) => {
        this.creditWaiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return Date.now() < this.deadline;
  }
}
