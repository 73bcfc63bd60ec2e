/**
 * A deliberately small Pusher WebSocket client on a raw TCP socket, so that
 * the load generator costs far less CPU than the server it measures: the
 * upgrade request, masked client frames, and just enough parsing of the
 * server's unmasked frames to find their boundaries. Payloads are handed to
 * the listener as (buffer, start, end) without copying or decoding; every
 * socket of the process reads into one shared buffer (net `onread`).
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const SERVER_PING = Buffer.from('"pusher:ping"');
const PONG = '{"event":"pusher:pong","data":{}}';
const HEADER_END = Buffer.from('\r\n\r\n');

const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** A masked client frame (FIN set). */
function clientFrame(opcode, payload, mask) {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  mask.copy(frame, header);
  for (let i = 0; i < length; i++) frame[header + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/**
 * Listener callbacks: `open(socket)` after pusher:connection_established
 * (socket.socketId is set), `frame(socket, buffer, start, end)` for every
 * later text frame (the bytes are only valid during the call), and
 * `closed(socket, code, error)` once, however the connection ended.
 */
export class PusherSocket {
  constructor({ host, port, appKey, localAddress, listener }) {
    this.listener = listener;
    this.socketId = '';
    /** Free for the owner's bookkeeping (subscription state, sampling...). */
    this.tag = undefined;
    this.upgraded = false;
    this.established = false;
    this.done = false;
    this.pending = null;
    this.mask = randomBytes(4);
    this.lastActivity = Date.now();
    this.socket = connect({
      host,
      port,
      localAddress,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (length, buffer) => this.read(buffer, length) },
    });
    this.socket.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      this.socket.write(
        `GET /app/${appKey}?protocol=7&client=reverb-bench&version=1.0 HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('error', (error) => this.finish(1006, error));
    this.socket.on('close', () => this.finish(1006));
  }

  sendText(text) {
    if (!this.done) this.socket.write(clientFrame(OP_TEXT, Buffer.from(text), this.mask));
  }

  /** Stops reading (a client that hangs or cannot keep up): the kernel's buffers fill, then the server's. */
  pauseReading() {
    this.socket.pause();
  }

  /** Closing handshake from the client side (code 1000), then the TCP close. */
  close() {
    if (this.done) return;
    this.socket.end(clientFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]), this.mask));
    this.finish(1000);
  }

  finish(code, error) {
    if (this.done) return;
    this.done = true;
    if (code !== 1000 || error) this.socket.destroy();
    this.listener.closed(this, code, error);
  }

  read(chunk, length) {
    this.lastActivity = Date.now();
    let buffer = chunk.subarray(0, length);
    if (this.pending) {
      buffer = Buffer.concat([this.pending, buffer]);
      this.pending = null;
    }
    let offset = 0;
    if (!this.upgraded) {
      const end = buffer.indexOf(HEADER_END);
      if (end < 0) {
        this.pending = Buffer.from(buffer);
        return;
      }
      if (!buffer.subarray(0, 13).toString('latin1').startsWith('HTTP/1.1 101')) {
        this.finish(1006, new Error(buffer.subarray(0, buffer.indexOf('\r\n')).toString('latin1')));
        return;
      }
      this.upgraded = true;
      offset = end + 4;
    }
    while (!this.done) {
      const available = buffer.length - offset;
      if (available < 2) break;
      let payloadLength = buffer[offset + 1] & 0x7f;
      let header = 2;
      if (payloadLength === 126) {
        if (available < 4) break;
        payloadLength = buffer.readUInt16BE(offset + 2);
        header = 4;
      } else if (payloadLength === 127) {
        if (available < 10) break;
        payloadLength = buffer.readUInt32BE(offset + 6);
        header = 10;
      }
      if (available < header + payloadLength) break;
      this.frame(buffer[offset] & 0x0f, buffer, offset + header, offset + header + payloadLength);
      offset += header + payloadLength;
    }
    // The shared read buffer is reused by the next read: keep a copy of a partial frame.
    if (offset < buffer.length && !this.done) this.pending = Buffer.from(buffer.subarray(offset));
  }

  frame(opcode, buffer, start, end) {
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (!this.established) return this.establish(buffer.toString('utf8', start, end));
      // Answer the server's liveness check; small frames only, so the check costs nothing on events.
      if (end - start < 64 && buffer.subarray(start, end).includes(SERVER_PING)) return this.sendText(PONG);
      this.listener.frame(this, buffer, start, end);
    } else if (opcode === OP_PING) {
      if (!this.done) this.socket.write(clientFrame(0xa, Buffer.from(buffer.subarray(start, end)), this.mask));
    } else if (opcode === OP_CLOSE) {
      const code = end - start >= 2 ? buffer.readUInt16BE(start) : 1005;
      this.socket.end();
      this.finish(code, code === 1000 ? undefined : new Error(`closed by the server: ${code} ${buffer.toString('utf8', start + 2, end)}`));
    }
  }

  establish(text) {
    const message = JSON.parse(text);
    if (message.event !== 'pusher:connection_established') {
      this.finish(4000, new Error(`expected connection_established, got ${text.slice(0, 200)}`));
      return;
    }
    this.socketId = JSON.parse(message.data).socket_id;
    this.established = true;
    this.listener.open(this);
  }
}
