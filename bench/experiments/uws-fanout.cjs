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
 * No signatures, no validation: only the fan-out differs between the modes.
 */
const uws = require('uWebSockets.js');

const [mode, port] = [process.argv[2], Number(process.argv[3])];
if (!['loop', 'batch', 'topic'].includes(mode) || !port) {
  console.error('usage: uws-fanout.cjs loop|batch|topic PORT');
  process.exit(2);
}
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
    fanOut(event.channel, Buffer.from(JSON.stringify({ event: event.name, data: event.data, channel: event.channel })));
    res.cork(() => res.end('{}'));
  });
});
app.listen('127.0.0.1', port, (listening) => {
  if (!listening) process.exit(1);
});
