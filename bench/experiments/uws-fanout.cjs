/**
 * The measurement behind "why not uWS topics" (docs/transports.md): a
 * minimal Pusher-like server on uWebSockets.js that fans an HTTP-published
 * event out to every subscriber in one of three ways, for the fanout scenario:
 *
 *   loop   one ws.send per subscriber, at once
 *   batch  frames queued per subscriber, written corked at the end of the iteration (what reverb-ts does)
 *   topic  uWS app.publish on the channel's topic
 *
 *   node bench/experiments/uws-fanout.cjs batch 6100 &
 *   node bench/run.mjs fanout --url ws://127.0.0.1:6100 --app-id a --key k --secret s --pid $! --connections 1000
 *
 * With THREADS > 1 (`uws-fanout.cjs batch 6100 2`), that many worker threads
 * each run the server on the same port (SO_REUSEPORT spreads the connections);
 * an event published on one thread is handed to the others over a
 * BroadcastChannel, and each writes to its own subscribers. That is the
 * measurement behind "spreading the writes over threads" in docs/benchmarks.md.
 *
 * No signatures, no validation: only the fan-out differs between the modes.
 */
const { BroadcastChannel, Worker, isMainThread, workerData } = require('node:worker_threads');
const uws = require('uWebSockets.js');

const [mode, port, threads = 1] = isMainThread ? [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1)] : workerData;
if (!['loop', 'batch', 'topic'].includes(mode) || !port || !(threads >= 1)) {
  console.error('usage: uws-fanout.cjs loop|batch|topic PORT [THREADS]');
  process.exit(2);
}
if (isMainThread && threads > 1) {
  for (let k = 0; k < threads; k++) new Worker(__filename, { workerData: [mode, port, threads] });
  // uWS loops in worker threads trip Node's orderly exit (an assertion on open handles); nothing needs flushing here.
  process.on('SIGTERM', () => process.kill(process.pid, 'SIGKILL'));
  return;
}
/** With threads, the other threads' publishes arrive here. */
const bus = threads > 1 ? new BroadcastChannel('uws-fanout') : undefined;
const subscribers = new Set();
const queued = new Map();
let scheduled = false;
let nextId = 0;

function flushAll() {
  scheduled = false;
  for (const [ws, frames] of queued) {
    if (frames.length === 1) ws.send(frames[0], false);
    else ws.cork(() => frames.forEach((frame) => ws.send(frame, false)));
  }
  queued.clear();
}

function fanOut(channel, frame) {
  if (mode === 'topic') return app.publish(channel, frame, false);
  if (mode === 'loop') return subscribers.forEach((ws) => ws.send(frame, false));
  for (const ws of subscribers) {
    const frames = queued.get(ws);
    if (frames) frames.push(frame);
    else queued.set(ws, [frame]);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

const app = uws.App();
app.ws('/*', {
  idleTimeout: 0,
  maxBackpressure: 0,
  maxPayloadLength: 100_000,
  open(ws) {
    const data = JSON.stringify({ socket_id: `1.${nextId++}`, activity_timeout: 30 });
    ws.send(JSON.stringify({ event: 'pusher:connection_established', data }));
  },
  message(ws, message) {
    const { event, data } = JSON.parse(Buffer.from(message).toString());
    if (event !== 'pusher:subscribe') return;
    if (mode === 'topic') ws.subscribe(data.channel);
    else subscribers.add(ws);
    ws.send(JSON.stringify({ event: 'pusher_internal:subscription_succeeded', data: '{}', channel: data.channel }));
  },
  close(ws) {
    subscribers.delete(ws);
    queued.delete(ws);
  },
});
app.any('/*', (res) => {
  const chunks = [];
  res.onAborted(() => undefined);
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk));
    if (!isLast) return;
    const event = JSON.parse(Buffer.concat(chunks).toString());
    const frame = JSON.stringify({ event: event.name, data: event.data, channel: event.channel });
    bus?.postMessage({ channel: event.channel, frame });
    fanOut(event.channel, Buffer.from(frame));
    res.cork(() => res.end('{}'));
  });
});
if (bus) bus.onmessage = ({ data }) => fanOut(data.channel, Buffer.from(data.frame));
app.listen('127.0.0.1', port, (listening) => {
  if (!listening) process.exit(1);
});
