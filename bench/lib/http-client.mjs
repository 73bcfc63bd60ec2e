/**
 * A minimal keep-alive HTTP/1.1 client for the Pusher HTTP API: one request
 * at a time per connection, responses framed by Content-Length (which every
 * Pusher server sends). Far cheaper per request than node:http, so that API
 * load measures the server, not the client.
 */
import { connect } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

export class HttpConnection {
  constructor({ host, port, localAddress }) {
    this.host = host;
    this.port = port;
    this.localAddress = localAddress;
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    this.waiting = undefined;
  }

  open() {
    const socket = connect({ host: this.host, port: this.port, localAddress: this.localAddress, noDelay: true });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => this.data(chunk));
    // Events of a socket this connection already replaced or closed are ignored.
    const fail = (error) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.reject(error ?? new Error('connection closed'));
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  /**
   * Sends one request; resolves with { status, body }. Reconnects when the
   * server closed. With `timeoutMs`, a server that does not answer in time
   * costs the connection (an HTTP/1.1 answer cannot be skipped) and the
   * promise rejects.
   */
  request(method, path, body = '', timeoutMs = 0) {
    if (this.waiting) throw new Error('one request at a time per HttpConnection');
    if (!this.socket) this.open();
    const length = Buffer.byteLength(body);
    this.socket.write(
      `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n` +
        (length ? `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}` : '\r\n'),
    );
    return new Promise((resolve, reject) => {
      const timer = timeoutMs ? setTimeout(() => this.close(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) : undefined;
      const settled = (settle) => (value) => {
        clearTimeout(timer);
        settle(value);
      };
      this.waiting = { resolve: settled(resolve), reject: settled(reject) };
    });
  }

  data(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buffer.toString('latin1', 0, end);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    const response = { status: Number(head.slice(9, 12)), body: this.buffer.toString('utf8', end + 4, end + 4 + length) };
    this.buffer = this.buffer.subarray(end + 4 + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    waiting?.resolve(response);
  }

  /** Drops the connection; a request still waiting for its answer rejects with `reason`. */
  close(reason = new Error('connection closed')) {
    const socket = this.socket;
    const waiting = this.waiting;
    this.socket = undefined;
    this.waiting = undefined;
    socket?.destroy();
    waiting?.reject(reason);
  }
}
