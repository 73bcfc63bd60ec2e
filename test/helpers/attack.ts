/**
 * Tools for the attack regression tests (issue 14): every attack runs against
 * a real server while
 * - an RSS sampler watches the server process's resident memory (VmRSS),
 * - a well-behaved "canary" client, subscribed on the same server, receives an
 *   event published through the HTTP API every 100 ms (latency and loss), and
 *   `/up` is probed at the same pace,
 * so a test can state "memory stayed under X, the attacker was closed, the
 * others did not notice". Attackers are raw TCP sockets that do the WebSocket
 * handshake by hand: they can write frames without ever reading (a `ws` client
 * would answer pings and buffer replies in the test process).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { apiClient, channelInfo } from './clients.js';
import { hmac } from './sign.js';
import { DEFAULT_APP, startServer, type StartOptions, type StartedServer, type TestApp } from './server.js';
import { RawClient } from './ws-client.js';

/** Resident memory of a process in MiB, from /proc/<pid>/status (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kilobytes) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kilobytes[1]) / 1024;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (Linux, 100 ticks a second). */
export function cpuMs(pid: number): number {
  // The fields after the command name (which may hold spaces) start with the state, field 3; utime and stime are fields 14 and 15.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Samples a process's RSS every `periodMs` and keeps the peak. */
export class RssSampler {
  readonly baseline: number;
  peak: number;
  last: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, periodMs = 20) {
    this.baseline = this.peak = this.last = rssMiB(pid);
    this.timer = setInterval(() => this.sample(), periodMs);
  }

  /** Reads the RSS now (the process may be gone: then the last value stays). */
  sample(): number {
    try {
      this.last = rssMiB(this.pid);
    } catch {
      return this.last;
    }
    if (this.last > this.peak) this.peak = this.last;
    return this.last;
  }

  /** Peak growth over the baseline so far, in MiB. */
  get growth(): number {
    return this.peak - this.baseline;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** Nearest-rank percentile of ascending `sorted` values (0 when empty). */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface CanaryReport {
  /** Events the API accepted. */
  published: number;
  /** Of those, events the canary received. */
  received: number;
  /** Published but never received. */
  lost: number;
  /** Received more than once. */
  duplicates: number;
  /** API publishes that failed or timed out. */
  publishFailures: number;
  p50: number;
  p99: number;
  max: number;
  /** `/up` probes, failures (non-200 or no answer within 2 s) and the slowest answer. */
  upChecks: number;
  upFailures: number;
  upMax: number;
  /** The canary's WebSocket closed (it never should). */
  closed: boolean;
}

const CANARY_CHANNEL = 'canary';
/** A probe or publish with no answer after this long counts as a failure (and stops waiting). */
const PROBE_TIMEOUT_MS = 2000;

/**
 * A well-behaved client: subscribed to `canary`, answering the server's
 * pings, receiving an event every `periodMs` published through the HTTP API.
 * Latency is publish start to arrival, both on this process's clock.
 */
export class Canary {
  private readonly sentAt = new Map<number, number>();
  private readonly latencies: number[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private seq = 0;
  private published = 0;
  private publishFailures = 0;
  private duplicates = 0;
  private upChecks = 0;
  private upFailures = 0;
  private upMax = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly api: ReturnType<typeof apiClient>;

  private constructor(
    private readonly server: StartedServer,
    readonly client: RawClient,
    app: TestApp,
    periodMs: number,
  ) {
    this.api = apiClient(server, app);
    client.ws.on('message', (data) => this.received(data.toString()));
    this.timer = setInterval(() => this.tick(), periodMs);
  }

  static async start(server: StartedServer, options: { app?: TestApp; periodMs?: number } = {}): Promise<Canary> {
    const app = options.app ?? DEFAULT_APP;
    const client = await RawClient.connect(`${server.wsUrl}/app/${app.key}`);
    answerPings(client);
    const reply = await client.subscribe(CANARY_CHANNEL);
    assert.equal(reply.event, 'pusher_internal:subscription_succeeded');
    return new Canary(server, client, app, options.periodMs ?? 100);
  }

  private received(text: string): void {
    const match = /^\{"event":"tick","data":"(\d+)"/.exec(text);
    if (!match) return;
    const sent = this.sentAt.get(Number(match[1]));
    // Concurrent publishes may overtake each other, so order is not checked.
    if (sent === undefined) this.duplicates++;
    else this.latencies.push(performance.now() - sent);
    this.sentAt.delete(Number(match[1]));
  }

  private tick(): void {
    const seq = this.seq++;
    this.sentAt.set(seq, performance.now());
    this.track(
      withTimeout(this.api.trigger(CANARY_CHANNEL, 'tick', String(seq)), PROBE_TIMEOUT_MS).then(
        (response) => (response.status === 200 ? this.published++ : this.publishFailed(seq)),
        () => this.publishFailed(seq),
      ),
    );
    const started = performance.now();
    this.track(
      fetch(`${this.server.url}/up`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`/up answered ${response.status}`);
        })
        .then(
          () => (this.upMax = Math.max(this.upMax, performance.now() - started)),
          () => this.upFailures++,
        )
        .finally(() => this.upChecks++),
    );
  }

  get publishedCount(): number {
    return this.published;
  }

  private publishFailed(seq: number): void {
    this.publishFailures++;
    this.sentAt.delete(seq);
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private stopped: Promise<CanaryReport> | undefined;

  /** Stops publishing, waits (bounded) for what is in flight to arrive, and reports (once; later calls get the same report). */
  stop(): Promise<CanaryReport> {
    return (this.stopped ??= this.report());
  }

  private async report(): Promise<CanaryReport> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
    const deadline = Date.now() + PROBE_TIMEOUT_MS;
    while (this.sentAt.size > 0 && Date.now() < deadline && this.client.closeCode === undefined) await sleep(20);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const report: CanaryReport = {
      published: this.published,
      received: this.latencies.length,
      lost: this.sentAt.size,
      duplicates: this.duplicates,
      publishFailures: this.publishFailures,
      p50: Math.round(percentile(sorted, 50)),
      p99: Math.round(percentile(sorted, 99)),
      max: Math.round(sorted.at(-1) ?? 0),
      upChecks: this.upChecks,
      upFailures: this.upFailures,
      upMax: Math.round(this.upMax),
      closed: this.client.closeCode !== undefined,
    };
    this.client.close();
    return report;
  }
}

/** Events the canary must have received for its verdict to count (a scene runs it at least this long). */
export const MIN_CANARY_EVENTS = 10;

/** What the tests allow the canary by default: CI has 2 CPUs and runs two test files at once. */
export const CANARY_P99_MS = 1000;

/** The canary got every event, within the latency bound, and `/up` always answered. */
export function assertCanaryUnaffected(report: CanaryReport, options: { p99Ms?: number; minEvents?: number } = {}): void {
  const p99Ms = options.p99Ms ?? CANARY_P99_MS;
  const minEvents = options.minEvents ?? MIN_CANARY_EVENTS;
  const summary = JSON.stringify(report);
  assert.equal(report.closed, false, `the canary was disconnected: ${summary}`);
  assert.equal(report.publishFailures, 0, `API publishes failed: ${summary}`);
  assert.equal(report.lost, 0, `the canary lost events: ${summary}`);
  assert.equal(report.duplicates, 0, `the canary received events twice: ${summary}`);
  assert.ok(report.received >= minEvents, `the canary received only ${report.received} events: ${summary}`);
  assert.ok(report.p99 < p99Ms, `canary p99 ${report.p99} ms >= ${p99Ms} ms: ${summary}`);
  assert.equal(report.upFailures, 0, `/up failed: ${summary}`);
  assert.ok(report.upChecks >= minEvents, `/up was probed only ${report.upChecks} times: ${summary}`);
}

/** Answers the server's `pusher:ping` like pusher-js does, so a quiet client is not pruned. */
export function answerPings(client: RawClient): void {
  client.ws.on('message', (data) => {
    if (data.toString() === '{"event":"pusher:ping"}') client.send({ event: 'pusher:pong' });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// What the attack tests share

/**
 * Peak RSS growth allowed while a flood lasts. Measured: up to ~15 MiB for
 * most floods, up to ~35 MiB on ws for 1-byte invalid frames (garbage not yet
 * collected); a ping flood once took 4.4 GB.
 */
export const FLOOD_RSS_MIB = 64;

/**
 * How fast an attacker that ignores its close keeps writing: a fast uplink,
 * and well within what loopback and the test process sustain without
 * saturating a shared CI machine.
 */
export const ATTACK_BYTES_PER_SECOND = 4 * 1024 * 1024;

/** The default app with the per-second message limit out of the way, so that only the output bound stops a flood. */
export const UNTHROTTLED_APP: TestApp = { ...DEFAULT_APP, max_messages_per_second: 10_000_000 };

/** The 4100 close of a client whose unread output passed `max_buffered_output`, and the error frame before it. */
export const SLOW_READER = { code: 4100, reason: 'Over capacity: the client is not reading fast enough' };
export const SLOW_READER_FRAME = errorFrameText(4100, SLOW_READER.reason);
/** The 4100 close of a client past twice `max_messages_per_second`, and the error frame before it. */
export const TOO_FAST = { code: 4100, reason: 'Over capacity: the client sends messages too fast' };
export const TOO_FAST_FRAME = errorFrameText(4100, TOO_FAST.reason);
export const INVALID_FRAME = errorFrameText(4200, 'Invalid message format');

/** A `pusher:error` frame as the server writes it (data is a JSON string). */
export function errorFrameText(code: number, message: string): string {
  return JSON.stringify({ event: 'pusher:error', data: JSON.stringify({ code, message }) });
}

// ---------------------------------------------------------------------------
// Raw WebSocket frames and sockets

/**
 * A client-to-server frame (FIN set) masked with the all-zero key: masking is
 * mandatory, and XOR with zero leaves the payload as it is, so a frame can be
 * built once and written many times.
 */
export function clientFrame(opcode: number, payload: string | Buffer = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = body.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + 4);
  header[0] = 0x80 | opcode;
  if (length < 126) {
    header[1] = 0x80 | length;
  } else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, body]);
}

export const textFrame = (text: string): Buffer => clientFrame(0x1, text);
export const pingFrame = (payload: string | Buffer = ''): Buffer => clientFrame(0x9, payload);
const PONG = clientFrame(0xa);

/** Frames packed into chunks of about `bytes` bytes: one write carries many frames. */
export function chunked(frames: readonly Buffer[], bytes = 64 * 1024): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let size = 0;
  for (const frame of frames) {
    pending.push(frame);
    size += frame.length;
    if (size >= bytes) {
      chunks.push(Buffer.concat(pending));
      pending = [];
      size = 0;
    }
  }
  if (pending.length) chunks.push(Buffer.concat(pending));
  return chunks;
}

/** `frame` repeated to about `bytes` bytes: one write carries many frames. */
export function repeated(frame: Buffer, bytes = 64 * 1024): Buffer {
  return Buffer.concat(Array.from({ length: Math.max(1, Math.floor(bytes / frame.length)) }, () => frame));
}

/** A server-to-client frame as parsed from raw bytes. */
export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** Parses complete unmasked frames from the front of `bytes`; returns them and the bytes left over. */
export function parseServerFrames(bytes: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let offset = 0;
  for (;;) {
    if (bytes.length - offset < 2) break;
    const second = bytes[offset + 1]! & 0x7f;
    const lengthBytes = second === 126 ? 2 : second === 127 ? 8 : 0;
    if (bytes.length - offset < 2 + lengthBytes) break;
    const length = second === 126 ? bytes.readUInt16BE(offset + 2) : second === 127 ? Number(bytes.readBigUInt64BE(offset + 2)) : second;
    const start = offset + 2 + lengthBytes;
    if (bytes.length < start + length) break;
    frames.push({ opcode: bytes[offset]! & 0x0f, payload: bytes.subarray(start, start + length) });
    offset = start + length;
  }
  return { frames, rest: bytes.subarray(offset) };
}

export interface RawSocketOptions {
  /**
   * `pause` (default): after the handshake and connection_established, never
   * read again (the server's replies pile up). `discard`: read and drop
   * everything (a client that keeps up but costs the test process nothing).
   */
  read?: 'pause' | 'discard';
}

/**
 * A WebSocket client on a bare TCP socket, handshake written by hand. It
 * writes raw frames and, paused, reads nothing: what the server sends stays
 * in kernel buffers and then in the server's own queue.
 */
export class RawSocket {
  socketId = '';
  /** performance.now() when the server cut the connection (a write failed, or the socket closed). */
  closedAt: number | undefined;
  /** Bytes read after the handshake (`discard` mode). */
  bytesRead = 0;
  private leftover = Buffer.alloc(0);
  private readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt ??= performance.now();
        resolve();
      }),
    );
    socket.on('error', () => (this.closedAt ??= performance.now()));
  }

  static async open(server: StartedServer, app: TestApp = DEFAULT_APP, options: RawSocketOptions = {}): Promise<RawSocket> {
    const socket = tcpConnect(server.port, server.host);
    const raw = new RawSocket(socket);
    try {
      await withTimeout(raw.handshake(server, app, options.read), 5000);
    } catch (error) {
      raw.destroy();
      throw error;
    }
    return raw;
  }

  private async handshake(server: StartedServer, app: TestApp, read: RawSocketOptions['read']): Promise<void> {
    const { socket } = this;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    socket.write(
      `GET /app/${app.key}?protocol=7&client=js&version=8.4.0 HTTP/1.1\r\n` +
        `Host: ${server.host}:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from('reverb-attack-01').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    // Read the 101 and the first frame (connection_established), nothing more.
    let buffered = Buffer.alloc(0);
    const first = await new Promise<ServerFrame>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const headerEnd = buffered.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const status = buffered.subarray(0, buffered.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) return fail(new Error(`handshake refused: ${status}`));
        const body = buffered.subarray(headerEnd + 4);
        const first = parseServerFrames(body).frames[0];
        if (!first) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        // Anything after connection_established in the same read is kept for readToEnd (server frames are unmasked).
        const length = first.payload.length;
        this.leftover = Buffer.from(body.subarray(2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + length));
        resolve(first);
      };
      const onClose = () => fail(new Error('closed during the handshake'));
      const fail = (error: Error) => {
        socket.off('data', onData);
        socket.off('close', onClose);
        reject(error);
      };
      socket.on('data', onData);
      socket.once('close', onClose);
    });
    const established = JSON.parse(first.payload.toString()) as { event: string; data: string };
    if (established.event !== 'pusher:connection_established') throw new Error(`expected connection_established, got ${first.payload}`);
    this.socketId = (JSON.parse(established.data) as { socket_id: string }).socket_id;
    if (read === 'discard') socket.on('data', (chunk: Buffer) => (this.bytesRead += chunk.length));
    else socket.pause();
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Writes one frame (or several, concatenated) as they are. */
  write(bytes: Buffer): void {
    if (!this.isClosed) this.socket.write(bytes);
  }

  sendText(text: string): void {
    this.write(textFrame(text));
  }

  /** Subscribes without waiting for an answer (signed for private/presence channels with the app's secret). */
  subscribe(channel: string, app: TestApp = DEFAULT_APP, channelData?: unknown): void {
    this.sendText(subscribeMessage(this.socketId, channel, app, channelData));
  }

  /**
   * Writes `chunk` over and over (or, given a list, each chunk once), as fast
   * as the server takes it, until the server cuts the connection, `stop()`
   * says so, or `maxMs` passes. Yields to the event loop between writes so
   * that the canary and the sampler keep running. Resolves with the bytes written.
   */
  async flood(chunk: Buffer | readonly Buffer[], options: { maxMs: number; stop?: () => boolean; bytesPerSecond?: number }): Promise<number> {
    const started = performance.now();
    const deadline = started + options.maxMs;
    const chunks = Buffer.isBuffer(chunk) ? undefined : chunk;
    let written = 0;
    for (let i = 0; !this.isClosed && !options.stop?.() && performance.now() < deadline; i++) {
      const next = chunks ? chunks[i] : (chunk as Buffer);
      if (next === undefined) break;
      written += next.length;
      const ahead = options.bytesPerSecond ? (written / options.bytesPerSecond) * 1000 - (performance.now() - started) : 0;
      if (this.socket.write(next)) {
        // At a given rate, wait until the bytes written are due; else just let the event loop turn.
        await (ahead > 1 ? sleep(Math.min(ahead, deadline - performance.now())) : nextTurn());
        continue;
      }
      // The server reads slower than we write: wait for room, for the cut, or for the deadline.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, Math.min(50, deadline - performance.now())));
        this.socket.once('drain', done);
        this.socket.once('close', done);
      });
    }
    return written;
  }

  /**
   * Waits up to `timeoutMs` for the server to cut the TCP connection; true if
   * it did. A paused socket notices a reset only when it writes, so an empty
   * pong (which the server takes as a sign of life and otherwise ignores) is
   * written every 50 ms meanwhile.
   */
  async waitForCut(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.isClosed && performance.now() < deadline) {
      this.socket.write(PONG);
      await Promise.race([this.closedPromise, sleep(50)]);
    }
    return this.isClosed;
  }

  /**
   * Starts reading again and collects what the server sent until it closes
   * the connection (or `timeoutMs`): the text frames, and the close frame's code and reason.
   */
  async readToEnd(timeoutMs = 5000): Promise<{ texts: string[]; close?: { code: number; reason: string } }> {
    const frames: ServerFrame[] = [];
    let rest = this.leftover;
    this.socket.on('data', (chunk: Buffer) => {
      const parsed = parseServerFrames(rest.length ? Buffer.concat([rest, chunk]) : chunk);
      rest = Buffer.from(parsed.rest);
      for (const frame of parsed.frames) {
        frames.push(frame);
        // Answer the close frame as a client would, so the server ends the connection now.
        if (frame.opcode === 0x8) this.socket.end(clientFrame(0x8));
      }
    });
    this.socket.resume();
    await Promise.race([this.closedPromise, sleep(timeoutMs)]);
    const closeFrame = frames.find((frame) => frame.opcode === 0x8);
    return {
      texts: frames.filter((frame) => frame.opcode === 0x1).map((frame) => frame.payload.toString()),
      close: closeFrame && { code: closeFrame.payload.readUInt16BE(0), reason: closeFrame.payload.subarray(2).toString() },
    };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A `pusher:subscribe` message text, signed like an auth endpoint would. */
export function subscribeMessage(socketId: string, channel: string, app: TestApp = DEFAULT_APP, channelData?: unknown): string {
  const data = channelData === undefined ? undefined : typeof channelData === 'string' ? channelData : JSON.stringify(channelData);
  let auth = '';
  if (channel.startsWith('private-') || channel.startsWith('presence-')) {
    auth = `${app.key}:${hmac(app.secret, data === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${data}`)}`;
  }
  return JSON.stringify({ event: 'pusher:subscribe', data: { auth, channel, ...(data === undefined ? {} : { channel_data: data }) } });
}

/**
 * Re-checks `check` every 25 ms until it holds; resolves with the
 * milliseconds since `since` (a performance.now() value, default now),
 * rejects naming `what` after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  { since = performance.now(), timeoutMs }: { since?: number; timeoutMs: number },
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return performance.now() - since;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(25);
  }
}

/**
 * Writes `chunk` in a loop without reading until the server takes the
 * attacker out of `channel` (a closed connection leaves its channels at once,
 * on both transports, whereas `GET /connections` counts a ws connection until
 * its socket is gone) or `maxMs` passes. Unless `subscribed`, subscribes the
 * attacker to `channel` (a public one of its own) first. Resolves with the
 * milliseconds from the first write to that close; rejects if it never came.
 *
 * `bytesPerSecond` caps the rate (as over a real network link; unset, as
 * fast as loopback goes). With `ignoreClose`, the attacker keeps writing past
 * the close until the server cuts the TCP connection; `attacker.closedAt`
 * then tells when.
 */
export async function floodUntilClosed(
  scene: Scene,
  attacker: RawSocket,
  chunk: Buffer | readonly Buffer[],
  options: { channel?: string; app?: TestApp; subscribed?: boolean; maxMs?: number; bytesPerSecond?: number; ignoreClose?: boolean } = {},
): Promise<number> {
  const { channel = 'attacker', app = DEFAULT_APP, maxMs = 5000, bytesPerSecond, ignoreClose } = options;
  const before = options.subscribed ? await scene.subscribers(channel, app) : 1;
  if (!options.subscribed) {
    attacker.subscribe(channel, app);
    await waitUntil('the attacker is subscribed', async () => (await scene.subscribers(channel, app)) === 1, { timeoutMs: 3000 });
  }
  const start = performance.now();
  let closedAfter: number | undefined;
  const closed = waitUntil('the attacker is closed', async () => (await scene.subscribers(channel, app)) === before - 1, { since: start, timeoutMs: maxMs });
  void closed.then((ms) => (closedAfter = ms), () => undefined);
  await attacker.flood(chunk, { maxMs, bytesPerSecond, stop: ignoreClose ? undefined : () => closedAfter !== undefined });
  return closed;
}

/**
 * Opens `count` raw members that read and drop what they get (in batches: a
 * few hundred handshakes at once would only queue in the listen backlog) and
 * joins each to presence `channel` as user `${prefix}${i}` with `userInfo(i)`.
 */
export async function joinPresence(
  scene: Scene,
  options: { app?: TestApp; channel: string; count: number; prefix: string; userInfo: (i: number) => unknown },
): Promise<RawSocket[]> {
  const { app = DEFAULT_APP, channel, count, prefix, userInfo } = options;
  const members: RawSocket[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, count - start) }, () => scene.rawSocket(app, { read: 'discard' })));
    batch.forEach((member, i) => member.subscribe(channel, app, { user_id: `${prefix}${start + i}`, user_info: userInfo(start + i) }));
    members.push(...batch);
  }
  return members;
}

// ---------------------------------------------------------------------------
// A scene: server + RSS sampler + canary, cleaned up with the test

export interface Scene {
  readonly server: StartedServer;
  readonly api: ReturnType<typeof apiClient>;
  readonly rss: RssSampler;
  /** Closes/destroys `thing` when the test ends (whatever happened). */
  own<T extends { close(): void } | { destroy(): void }>(thing: T): T;
  /** Connects a reading `ws` client that is closed with the test. */
  connect(app?: TestApp): Promise<RawClient>;
  /** Opens a raw socket that is destroyed with the test. */
  rawSocket(app?: TestApp, options?: RawSocketOptions): Promise<RawSocket>;
  /** `subscription_count` of a channel through `GET /channels/{name}` (0 when unoccupied). */
  subscribers(channel: string, app?: TestApp): Promise<number>;
  /** Stops the canary and the sampler; reports both (also as test diagnostics). */
  finish(): Promise<{ canary: CanaryReport; rss: { baseline: number; peak: number; growth: number; end: number } }>;
}

/**
 * Starts a server for one test with a canary subscribed and an RSS sampler
 * running; everything is torn down when the test ends, pass or fail.
 */
export async function attackScene(t: TestContext, options: StartOptions = {}): Promise<Scene> {
  const owned: ({ close(): void } | { destroy(): void })[] = [];
  const server = await startServer(options);
  let canary: Canary | undefined;
  let rss: RssSampler | undefined;
  t.after(async () => {
    rss?.stop();
    if (canary) await canary.stop().catch(() => undefined);
    for (const thing of owned) ('destroy' in thing ? thing.destroy() : thing.close());
    await server.stop();
  });
  const api = apiClient(server);
  canary = await Canary.start(server);
  // The baseline includes the canary and a first few events: the cost of the attack is what comes on top.
  await sleep(300);
  rss = new RssSampler(server.process.pid!);
  const own = <T extends { close(): void } | { destroy(): void }>(thing: T): T => {
    owned.push(thing);
    return thing;
  };
  const ready = canary;
  const sampler = rss;
  const subscribers = async (channel: string, app = DEFAULT_APP) =>
    ((await channelInfo(apiClient(server, app), channel, 'subscription_count')).subscription_count as number | undefined) ?? 0;
  return {
    server,
    api,
    rss: sampler,
    own,
    connect: async (app = DEFAULT_APP) => own(await RawClient.connect(`${server.wsUrl}/app/${app.key}`)),
    rawSocket: async (app = DEFAULT_APP, socketOptions = {}) => own(await RawSocket.open(server, app, socketOptions)),
    subscribers,
    async finish() {
      // The canary's verdict needs a few events even when the attack was over in milliseconds.
      await waitUntil('the canary published 10 events', () => ready.publishedCount >= MIN_CANARY_EVENTS, { timeoutMs: 5000 }).catch(() => undefined);
      sampler.stop();
      const report = await ready.stop();
      const memory = {
        baseline: round(sampler.baseline),
        peak: round(sampler.peak),
        growth: round(sampler.growth),
        end: round(sampler.last),
      };
      t.diagnostic(`[${server.transport}] RSS MiB ${JSON.stringify(memory)}`);
      t.diagnostic(`[${server.transport}] canary ${JSON.stringify(report)}`);
      return { canary: report, rss: memory };
    },
  };
}

const round = (n: number): number => Math.round(n * 10) / 10;
