/**
 * The Sessions (bench/lib/session.mjs) of one worker process and what the
 * coordinator asks of them (bench/lib/session-pool.mjs): open a batch,
 * keep a population cycling with random lifetimes, close some, count per
 * phase, and report the clients' side of the truth (who is connected, who
 * is subscribed where) and whether their presence views match the API's.
 */
import { sleep } from './clock.mjs';
import { Histogram } from './histogram.mjs';
import { Session, emptyTally } from './session.mjs';

/**
 * The channels of session `index` under a plan { prefixes, groups, stride }:
 * one per prefix, all in group floor(index / stride) % groups. With the
 * stride set to the number of servers (sessions go round-robin over them),
 * every group has members on every server.
 */
export function sessionChannels(plan, index) {
  const group = Math.floor(index / (plan.stride ?? 1)) % plan.groups;
  return plan.prefixes.map((prefix) => `${prefix}${group}`);
}

/** Every channel a plan's sessions may subscribe to. */
export function planChannels(plan) {
  return plan.prefixes.flatMap((prefix) => Array.from({ length: plan.groups }, (_, group) => `${prefix}${group}`));
}

const freshTally = () => ({ ...emptyTally(), opened: 0, subscribed: 0, failed: 0, lost: 0 });

export class SessionSet {
  constructor() {
    this.live = new Set();
    this.tally = freshTally();
    this.latency = new Histogram();
    this.errors = [];
    /** Sessions record into whatever histogram is current, also after reset() replaced it. */
    this.recorder = { record: (micros) => this.latency.record(micros) };
    this.phase = 0;
  }

  reset() {
    // In place: every live session holds this object.
    Object.assign(this.tally, freshTally());
    this.latency = new Histogram();
    this.errors = [];
  }

  note(error) {
    if (this.errors.length < 5) this.errors.push(String(error?.message ?? error));
  }

  /** One session of number `index`, on targets[index % targets.length]; resolves when subscribed everywhere. */
  open({ targets, index, plan, localAddresses, timeoutMs }) {
    const server = index % targets.length;
    this.tally.opened++;
    const session = new Session(targets[server], {
      index,
      server,
      channels: sessionChannels(plan, index),
      localAddress: localAddresses[index % localAddresses.length],
      timeoutMs,
      tally: this.tally,
      latency: this.recorder,
      onEnd: (ended, code, error) => {
        this.live.delete(ended);
        if (ended.isReady && code !== 1000) {
          this.tally.lost++;
          this.note(error ?? new Error(`closed ${code}`));
        }
      },
    });
    this.live.add(session);
    return session.ready.then(
      () => {
        this.tally.subscribed++;
        return session;
      },
      (error) => {
        this.tally.failed++;
        this.note(error);
        return undefined;
      },
    );
  }

  /** Opens sessions first..first+count-1, `inFlight` at a time. */
  async openMany({ first, count, inFlight = 32, ...options }) {
    let next = 0;
    const one = async () => {
      while (next < count) await this.open({ ...options, index: first + next++ });
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, one));
    return this.stats();
  }

  /**
   * Keeps `count` sessions for `durationMs`: each closes itself after a
   * lifetime drawn evenly from `lifetimeMs` [shortest, longest] (counted
   * from its subscription) and a new one, numbered from `firstIndex`, takes
   * its place. The last ones stay open for the coordinator's checks.
   */
  async churn({ count, lifetimeMs: [shortest, longest], durationMs, firstIndex, inFlight = 32, timeoutMs = 30_000, ...options }) {
    const started = Date.now();
    let index = firstIndex;
    let opening = 0;
    while (Date.now() - started < durationMs) {
      const now = Date.now();
      for (const session of this.live) if (session.expires <= now) session.close();
      while (this.live.size < count && opening < inFlight) {
        opening++;
        this.open({ ...options, index: index++, timeoutMs }).then((session) => {
          opening--;
          if (session) session.expires = Date.now() + shortest + Math.random() * (longest - shortest);
        });
      }
      await sleep(20);
    }
    while (opening > 0 && Date.now() - started < durationMs + timeoutMs + 1000) await sleep(20);
    return { seconds: (Date.now() - started) / 1000 };
  }

  /** Closes `count` subscribed sessions of server `server`; returns their user ids. */
  closeSome({ count, server }) {
    const closing = [...this.live].filter((session) => session.isReady && session.server === server).slice(0, count);
    for (const session of closing) session.close();
    return closing.map((session) => session.userId);
  }

  closeAll() {
    for (const session of [...this.live]) session.close();
  }

  /** Starts a phase: the sessions subscribed now are the ones phaseReport() accounts for. */
  mark() {
    this.phase++;
    for (const session of this.live) {
      if (!session.isReady) continue;
      session.mark();
      session.phase = this.phase;
    }
  }

  /**
   * Over the sessions subscribed all through the phase: events expected
   * (`acceptedByChannel`: what the API accepted per channel), received,
   * missing and surplus; presence frames against the fewest that explain
   * how each view changed (more is spurious: a member removed and added
   * again, say).
   */
  phaseReport({ acceptedByChannel }) {
    const report = { sessions: 0, expected: 0, received: 0, missing: 0, surplus: 0, memberFrames: 0, spuriousMemberFrames: 0 };
    for (const session of this.live) {
      if (!session.isReady || session.phase !== this.phase) continue;
      report.sessions++;
      let needed = 0;
      for (const [name, state] of session.channels) {
        const accepted = acceptedByChannel[name] ?? 0;
        report.expected += accepted;
        report.received += state.received;
        report.missing += Math.max(0, accepted - state.received);
        report.surplus += Math.max(0, state.received - accepted);
        if (!state.presence) continue;
        for (const id of state.members) if (!state.viewAtMark.has(id)) needed++;
        for (const id of state.viewAtMark) if (!state.members.has(id)) needed++;
      }
      report.memberFrames += session.added + session.removed;
      report.spuriousMemberFrames += Math.max(0, session.added + session.removed - needed);
    }
    return report;
  }

  /** The clients' side of the truth: connections open, and per channel the user ids of the sessions subscribed. */
  truth() {
    const channels = {};
    let connections = 0;
    for (const session of this.live) {
      if (session.socket.established) connections++;
      if (!session.isReady) continue;
      for (const name of session.channels.keys()) (channels[name] ??= []).push(session.userId);
    }
    return { connections, channels };
  }

  /** Every subscribed session's presence views against `users` ({ channel: [ids] }, from the HTTP API). */
  compareViews({ users }) {
    const result = { compared: 0, mismatched: 0, examples: [] };
    for (const session of this.live) {
      if (!session.isReady) continue;
      for (const [name, state] of session.channels) {
        if (!state.presence) continue;
        result.compared++;
        const expected = new Set(users[name] ?? []);
        const missing = [...expected].filter((id) => !state.members.has(id));
        const extra = [...state.members].filter((id) => !expected.has(id));
        if (!missing.length && !extra.length) continue;
        result.mismatched++;
        if (result.examples.length < 3) {
          result.examples.push({ user: session.userId, server: session.server, channel: name, missing: missing.slice(0, 5), extra: extra.slice(0, 5), sizes: [state.members.size, expected.size] });
        }
      }
    }
    return result;
  }

  stats() {
    let ready = 0;
    for (const session of this.live) if (session.isReady) ready++;
    return { ...this.tally, open: this.live.size, ready, errors: this.errors, latency: this.latency.toJSON() };
  }
}
