/**
 * One client as an application runs it, for the scenarios that check what
 * clients see rather than how much a server delivers: a connection
 * subscribed to several channels (public, private and presence, signed the
 * way an app's auth endpoint would), which parses every frame. That costs
 * far more than the bare counting of Subscribers, so it is for hundreds or
 * thousands of clients. It counts, into a tally shared by the clients of
 * a process, and per channel since `mark()`:
 *   - the events received and, for sequenced events (Publisher's
 *     `sequenced`), the gaps in their numbers: events the server lost on the
 *     way while this client was subscribed (one that arrives late after all
 *     counts as out of order instead, as does a repeated one);
 *   - on presence channels, the member list as this client knows it
 *     (subscription_succeeded, then member_added / member_removed), the
 *     member frames, those that contradict the list (an added member
 *     already there, a removed one that was not), and those that came before
 *     the list itself; like pusher-js, the list then replaces what they said.
 */
import { SEQUENCE_MARKER, STAMP_MARKER, nowMicros, numberAfter } from './clock.mjs';
import { subscribeMessage } from './subscribers.mjs';
import { PusherSocket } from './ws-client.mjs';

const STAMP = STAMP_MARKER.toString();

function channelState(name) {
  return { subscribed: false, received: 0, last: -1, presence: name.startsWith('presence-'), members: new Set(), viewAtMark: new Set() };
}

/** The counters a tally starts with (every Session of a process adds to one). */
export function emptyTally() {
  return { received: 0, missed: 0, outOfOrder: 0, memberFrames: 0, contradictions: 0, membersBeforeList: 0 };
}

export class Session {
  /**
   * `channels`: the names to subscribe to; `tally`: see emptyTally();
   * `latency`: a Histogram that stamped events record into;
   * `onEnd(session, code, error)`: once, when the connection is gone (code
   * 1000 when this side closed it).
   */
  constructor(target, { index, server = 0, channels, localAddress, timeoutMs = 30_000, tally, latency, onEnd }) {
    this.index = index;
    this.server = server;
    this.userId = `user-${index}`;
    this.tally = tally;
    this.latency = latency;
    this.onEnd = onEnd;
    this.channels = new Map(channels.map((name) => [name, channelState(name)]));
    this.added = 0;
    this.removed = 0;
    this.isReady = false;
    this.ended = false;
    this.ready = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.timer = setTimeout(() => this.fail(new Error(`not subscribed to every channel within ${timeoutMs} ms`)), timeoutMs);
    this.socket = new PusherSocket({
      host: target.host,
      port: target.port,
      appKey: target.key,
      localAddress,
      listener: {
        open: (socket) => {
          for (const name of this.channels.keys()) socket.sendText(subscribeMessage(target, socket.socketId, name, index));
        },
        frame: (_socket, buffer, start, end) => {
          try {
            this.frame(JSON.parse(buffer.toString('utf8', start, end)));
          } catch (error) {
            this.fail(new Error(`could not handle a frame: ${error.message}`));
          }
        },
        closed: (_socket, code, error) => this.end(code, error),
      },
    });
  }

  frame({ event, channel, data }) {
    const state = this.channels.get(channel);
    if (event === 'pusher:error' || event === 'pusher:subscription_error') {
      return this.fail(new Error(`${event} on ${channel ?? 'the connection'}: ${JSON.stringify(data).slice(0, 200)}`));
    }
    if (!state) return;
    if (event === 'pusher_internal:subscription_succeeded') return this.subscribed(state, data);
    if (event === 'pusher_internal:member_added') return this.memberAdded(state, JSON.parse(data).user_id);
    if (event === 'pusher_internal:member_removed') return this.memberRemoved(state, JSON.parse(data).user_id);
    if (!event.startsWith('pusher')) this.event(state, data);
  }

  subscribed(state, data) {
    state.subscribed = true;
    if (state.presence) state.members = new Set(JSON.parse(data).presence.ids.map(String));
    if (!this.isReady && [...this.channels.values()].every((one) => one.subscribed)) {
      this.isReady = true;
      clearTimeout(this.timer);
      this.mark();
      this.settle.resolve(this);
    }
  }

  memberAdded(state, userId) {
    this.added++;
    this.count(state);
    if (state.members.has(String(userId))) this.tally.contradictions++;
    state.members.add(String(userId));
  }

  memberRemoved(state, userId) {
    this.removed++;
    this.count(state);
    if (!state.members.delete(String(userId))) this.tally.contradictions++;
  }

  count(state) {
    this.tally.memberFrames++;
    if (!state.subscribed) this.tally.membersBeforeList++;
  }

  event(state, data) {
    state.received++;
    this.tally.received++;
    if (typeof data !== 'string') return;
    const stamp = numberAfter(data, STAMP);
    if (stamp >= 0) this.latency?.record(nowMicros() - stamp);
    const sequence = numberAfter(data, SEQUENCE_MARKER);
    if (sequence < 0) return;
    if (state.last >= 0 && sequence <= state.last) {
      // Late (counted as missing when its gap appeared) or repeated.
      this.tally.outOfOrder++;
      if (sequence < state.last) this.tally.missed--;
      return;
    }
    if (state.last >= 0) this.tally.missed += sequence - state.last - 1;
    state.last = sequence;
  }

  /** Starts a new phase: zeroes the per-channel counts and keeps each presence view as it is now. */
  mark() {
    this.added = 0;
    this.removed = 0;
    for (const state of this.channels.values()) {
      state.received = 0;
      state.viewAtMark = new Set(state.members);
    }
  }

  fail(error) {
    if (!this.isReady) this.settle.reject(error);
    this.close();
  }

  close() {
    this.socket.close();
  }

  end(code, error) {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (!this.isReady) this.settle.reject(error ?? new Error(`closed ${code} before subscribing`));
    this.onEnd?.(this, code, error);
  }
}
