/**
 * The subscriber side of a worker: opens Pusher connections (bounded number
 * of handshakes in flight), subscribes each to its channel, then counts what
 * arrives and, on sampled connections, the end-to-end latency.
 */
import { Histogram } from './histogram.mjs';
import { nowMicros, readStamp } from './clock.mjs';
import { channelAuth } from './pusher-sign.mjs';
import { PusherSocket } from './ws-client.mjs';

const SUCCEEDED = Buffer.from('pusher_internal:subscription_succeeded');
const FAILED = Buffer.from('subscription_error');
const ERROR = Buffer.from('pusher:error');

/** The channel of connection number `index` under a plan { name } | { prefix, modulo | divisor }. */
export function channelFor(plan, index) {
  if (plan.name) return plan.name;
  const n = plan.modulo ? index % plan.modulo : Math.floor(index / (plan.divisor ?? 1));
  return `${plan.prefix}${n}`;
}

export function subscribeMessage(target, socketId, channel, index) {
  const data = { channel };
  if (channel.startsWith('presence-')) {
    data.channel_data = JSON.stringify({ user_id: `user-${index}`, user_info: { name: `bench ${index}` } });
    data.auth = channelAuth({ key: target.key, secret: target.secret, socketId, channel, channelData: data.channel_data });
  } else if (channel.startsWith('private-')) {
    data.auth = channelAuth({ key: target.key, secret: target.secret, socketId, channel });
  }
  return JSON.stringify({ event: 'pusher:subscribe', data });
}

export class Subscribers {
  constructor() {
    this.sockets = new Set();
    this.received = 0;
    this.latency = new Histogram();
    /** The same latencies by the server the connection is on (its number in a cluster's list). */
    this.serverLatency = [];
    /** Connections that ended after they were ready (server closes, resets). */
    this.lost = 0;
    this.errors = [];
  }

  reset() {
    this.received = 0;
    this.latency = new Histogram();
    this.serverLatency = [];
    this.lost = 0;
    this.errors = [];
  }

  note(error) {
    if (this.errors.length < 5) this.errors.push(String(error?.message ?? error));
  }

  /**
   * Opens and subscribes one connection; resolves with the socket once
   * subscription_succeeded arrived (without a `channel`: once
   * connection_established arrived), or rejects (connection refused, closed,
   * subscription_error, timeout).
   */
  open(target, { index, server = 0, channel, sample, localAddress, timeoutMs = 30_000 }) {
    return new Promise((resolve, reject) => {
      const state = { ready: false, sample, channel, index, server };
      // Rejected before closing: the close would reject first, with a less telling reason.
      const timer = setTimeout(() => {
        reject(new Error(`no ${channel ? 'subscription_succeeded' : 'connection_established'} within ${timeoutMs} ms`));
        socket.close();
      }, timeoutMs);
      const ready = (s) => {
        state.ready = true;
        clearTimeout(timer);
        this.sockets.add(s);
        resolve(s);
      };
      const socket = new PusherSocket({
        host: target.host,
        port: target.port,
        appKey: target.key,
        localAddress,
        listener: {
          open: (s) => (channel ? s.sendText(subscribeMessage(target, s.socketId, channel, index)) : ready(s)),
          frame: (s, buffer, start, end) => {
            if (state.ready) {
              this.received++;
              if (state.sample) {
                const stamp = readStamp(buffer, start, end);
                if (stamp >= 0) this.record(state.server, nowMicros() - stamp);
              }
              return;
            }
            const frame = buffer.subarray(start, end);
            if (frame.includes(SUCCEEDED)) {
              ready(s);
            } else if (frame.includes(FAILED) || frame.includes(ERROR)) {
              clearTimeout(timer);
              reject(new Error(`subscribe refused: ${frame.toString('utf8', 0, 200)}`));
              s.close();
            }
          },
          closed: (s, code, error) => {
            clearTimeout(timer);
            if (this.sockets.delete(s) && code !== 1000) {
              this.lost++;
              this.note(error ?? new Error(`closed ${code}`));
            }
            if (!state.ready) reject(error ?? new Error(`closed ${code} before subscribing`));
          },
        },
      });
      socket.tag = state;
    });
  }

  record(server, micros) {
    this.latency.record(micros);
    (this.serverLatency[server] ??= new Histogram()).record(micros);
  }

  /** Sends pusher:ping on connections silent for `idleMs`, as pusher-js does, so idle servers keep them. */
  keepAlive(idleMs) {
    const now = Date.now();
    for (const socket of this.sockets) {
      if (now - socket.lastActivity > idleMs) socket.sendText('{"event":"pusher:ping","data":{}}');
    }
  }

  closeAll() {
    for (const socket of [...this.sockets]) socket.close();
  }
}
