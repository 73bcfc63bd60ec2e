/**
 * A load worker process: holds a share of the connections and/or runs an
 * API publisher, on orders from the coordinator (bench/lib/pool.mjs) over
 * IPC. Every loop is bounded by a count and a deadline.
 */
import { Histogram } from './lib/histogram.mjs';
import { sleep, stampedData } from './lib/clock.mjs';
import { Publisher } from './lib/publisher.mjs';
import { SessionSet } from './lib/sessions.mjs';
import { Subscribers, channelFor } from './lib/subscribers.mjs';

const subscribers = new Subscribers();
const sessions = new SessionSet();
/** What the coordinator may ask of the sessions (bench/lib/session-pool.mjs). */
const SESSION_OPS = new Set(['openMany', 'churn', 'stats', 'reset', 'mark', 'closeSome', 'closeAll', 'phaseReport', 'truth', 'compareViews']);
let publisher;
let progressTimer;
/** pusher-js pings after 30 s of silence at the latest (Reverb's activity_timeout); so do we. */
const keepAliveTimer = setInterval(() => subscribers.keepAlive(25_000), 5_000);

/**
 * Opens `count` connections numbered first..first+count-1, at most
 * `inFlight` handshakes at a time, spread over the worker's source addresses
 * and round-robin over `targets` (the servers of a cluster). Without a
 * `plan`, connections are not subscribed (ready at connection_established).
 * `setup` times the connections made, `refused` the attempts that failed.
 */
async function connect({ targets, first, count, plan, sampleEvery, localAddresses, inFlight = 64, timeoutMs }) {
  const started = performance.now();
  let next = 0;
  let ready = 0;
  let failed = 0;
  const setup = new Histogram();
  const refused = new Histogram();
  const errors = [];
  const one = async () => {
    while (next < count) {
      const index = first + next++;
      const server = index % targets.length;
      const began = performance.now();
      try {
        await subscribers.open(targets[server], {
          index,
          server,
          channel: plan ? channelFor(plan, index) : undefined,
          // Sampled by rounds over the servers: index % sampleEvery could put every sample on one server.
          sample: Math.floor(index / targets.length) % sampleEvery === 0,
          localAddress: localAddresses[index % localAddresses.length],
          timeoutMs,
        });
        setup.record((performance.now() - began) * 1000);
        ready++;
      } catch (error) {
        refused.record((performance.now() - began) * 1000);
        failed++;
        if (errors.length < 5) errors.push(error.message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, one));
  return { ready, failed, errors, seconds: (performance.now() - started) / 1000, setup: setup.toJSON(), refused: refused.toJSON() };
}

/** Every ready connection sends client events (`client-bench`) at `rate` per second each, evenly spread. */
async function whisper({ rate, durationMs, payloadBytes }) {
  const sockets = [...subscribers.sockets];
  const perSecond = sockets.length * rate;
  const started = Date.now();
  let sent = 0;
  let cursor = 0;
  while (Date.now() - started < durationMs && sockets.length > 0) {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
    for (; sent < due; sent++) {
      const socket = sockets[cursor++ % sockets.length];
      socket.sendText(
        JSON.stringify({ event: 'client-bench', channel: socket.tag.channel, data: stampedData(payloadBytes) }),
      );
    }
    await sleep(5);
  }
  return { sent, seconds: (Date.now() - started) / 1000 };
}

/**
 * Keeps the worker's connections cycling: every tick, closes the oldest
 * connections and opens as many new ones (subscribed), `rate` per second.
 */
async function churn({ target, rate, durationMs, plan, localAddresses, firstIndex, inFlight = 32 }) {
  const started = Date.now();
  const setup = new Histogram();
  const errors = [];
  let cycles = 0;
  let failed = 0;
  let opening = 0;
  let index = firstIndex;
  while (Date.now() - started < durationMs) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    while (cycles < due && opening < inFlight) {
      cycles++;
      const oldest = subscribers.sockets.values().next().value;
      oldest?.close();
      const number = index++;
      const began = performance.now();
      opening++;
      subscribers
        .open(target, { index: number, channel: channelFor(plan, number), sample: false, localAddress: localAddresses[number % localAddresses.length] })
        .then(
          () => setup.record((performance.now() - began) * 1000),
          (error) => {
            failed++;
            if (errors.length < 5) errors.push(error.message);
          },
        )
        .finally(() => opening--);
    }
    await sleep(5);
  }
  while (opening > 0 && Date.now() - started < durationMs + 30_000) await sleep(10);
  return { cycles, failed, errors, seconds: (Date.now() - started) / 1000, setup: setup.toJSON() };
}

/** Makes `count` of the worker's connections stop reading; sampled ones keep reading (they measure latency). */
function stall({ count }) {
  let stalled = 0;
  for (const socket of subscribers.sockets) {
    if (stalled === count) break;
    if (socket.tag.sample) continue;
    socket.pauseReading();
    stalled++;
  }
  return { stalled };
}

function stats() {
  const cpu = process.cpuUsage();
  return {
    received: subscribers.received,
    latency: subscribers.latency.toJSON(),
    // Array.from, not map: a server none of this worker's samples are on is a hole, sent as an empty histogram.
    serverLatency: Array.from(subscribers.serverLatency, (histogram) => (histogram ?? new Histogram()).toJSON()),
    open: subscribers.sockets.size,
    lost: subscribers.lost,
    errors: subscribers.errors,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

const commands = {
  connect,
  whisper,
  churn,
  stall,
  stats,
  reset: () => subscribers.reset(),
  /** Reports received counts every `everyMs` (for the publishers' flow control) until told 0. */
  progress: ({ everyMs }) => {
    clearInterval(progressTimer);
    if (everyMs) progressTimer = setInterval(() => process.send({ type: 'progress', received: subscribers.received }), everyMs);
  },
  publish: async ({ target, options }) => {
    publisher = new Publisher(target, options);
    try {
      return await publisher.run();
    } finally {
      publisher = undefined;
    }
  },
  credit: ({ delivered }) => publisher?.credit(delivered),
  stopPublishing: () => publisher?.stop(),
  sessions: ({ op, args }) => {
    if (!SESSION_OPS.has(op)) throw new Error(`unknown sessions operation ${op}`);
    return sessions[op](args);
  },
  closeAll: async () => {
    subscribers.closeAll();
    sessions.closeAll();
    await sleep(200);
  },
};

process.on('message', async (message) => {
  try {
    const result = await commands[message.cmd](message);
    process.send({ id: message.id, ok: true, result });
  } catch (error) {
    process.send({ id: message.id, ok: false, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => {
  clearInterval(keepAliveTimer);
  clearInterval(progressTimer);
  subscribers.closeAll();
  sessions.closeAll();
  setTimeout(() => process.exit(0), 200).unref();
});
