/**
 * Keeps V8's young generation at its initial size in the server process.
 *
 * V8 grows the new space (up to 16 MB per semi-space on Node 20) when many
 * objects survive scavenges, which is exactly what a burst of arriving
 * connections does, and seldom gives it back: with default flags that growth
 * was a third of reverb-ts's memory per idle connection on uWS (1.85 KB → 1.3).
 * Kept small, the long-lived connection objects move on to the compact old
 * generation. The broadcast path allocates nothing per recipient, so the more
 * frequent scavenges cost no measurable fan-out throughput
 * (docs/benchmarks.md, "Profile-guided pass").
 *
 * The growth factor is read by V8 whenever it considers growing, so it can be
 * set after start-up (the maximum size cannot). A user who sizes the young
 * generation with Node flags keeps their choice.
 */
import v8 from 'node:v8';

const USER_SIZING = /--(?:max-semi-space-size|semi-space-growth-factor)\b/;

/** Returns true when the flag was set, false when Node flags already size the young generation. */
export function keepYoungGenerationSmall(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if (USER_SIZING.test(nodeOptions) || execArgv.some((flag) => USER_SIZING.test(flag))) return false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
