/**
 * Timestamps that publishers put in payloads and receivers compare against:
 * microseconds of the monotonic clock, which every process on the machine
 * shares (process.hrtime reads CLOCK_MONOTONIC on Linux).
 */
export function nowMicros() {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The marker in front of the timestamp: needs no JSON escaping, so it reads the same in every frame shape. */
export const STAMP_MARKER = Buffer.from('~t=');

/** A data string carrying the send time, padded to about `bytes` characters. */
export function stampedData(bytes) {
  const stamp = `~t=${nowMicros()};`;
  return bytes > stamp.length ? stamp + 'x'.repeat(bytes - stamp.length) : stamp;
}

/** The timestamp in buffer[start, end), or -1 when the frame carries none. */
export function readStamp(buffer, start, end) {
  const at = buffer.indexOf(STAMP_MARKER, start);
  if (at < 0 || at >= end) return -1;
  let value = 0;
  for (let i = at + STAMP_MARKER.length; i < end; i++) {
    const digit = buffer[i] - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

/** The marker in front of a per-channel sequence number, which sequenced publishers put before the stamp. */
export const SEQUENCE_MARKER = '~s=';

/** The decimal number after `marker` in an event's data string, or -1 (for receivers that parse frames anyway). */
export function numberAfter(text, marker) {
  const at = text.indexOf(marker);
  if (at < 0) return -1;
  const digits = /^\d+/.exec(text.slice(at + marker.length, at + marker.length + 20));
  return digits ? Number(digits[0]) : -1;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
