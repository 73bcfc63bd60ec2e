/**
 * Pusher's delivery policy: retry with exponential backoff for up to five
 * minutes when the receiver may succeed later (network errors, timeouts, 5xx,
 * 408, 429); any other status is the receiver's final word.
 */

export const RETRY_FOR_MS = 5 * 60_000;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

/** `status` undefined: no response at all (connection refused, reset, timed out). */
export function isRetryable(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 408 || status === 429;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): doubling from
 * 1 s up to 60 s, with full jitter so that receivers coming back are not hit
 * by every server at the same instant.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
