/**
 * Pulse's Sampling concern for Reverb's recorder: each message is kept with
 * the odds of `sample_rate` (Lottery::odds($rate)->choose()), and what is
 * stored is the plain count of kept messages — Pulse's card scales it back
 * by its own configured sample_rate.
 */
export function sampled(messages: number, rate: number, random: () => number = Math.random): number {
  if (rate >= 1) return messages;
  let kept = 0;
  for (let i = 0; i < messages; i++) if (random() < rate) kept++;
  return kept;
}
