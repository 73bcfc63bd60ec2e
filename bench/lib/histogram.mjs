/**
 * Latency histogram in microseconds with under 1 % relative error: 64
 * linear sub-buckets per power of two (the HdrHistogram idea, without the
 * dependency). Fixed memory, O(1) record, and mergeable across workers.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = 28 * SUB;

/** Values below 2·SUB are exact; above, v >> shift keeps SUB_BITS + 1 significant bits. */
function indexOf(value) {
  if (value < 2 * SUB) return value;
  const shift = 31 - Math.clz32(value) - SUB_BITS;
  return (shift + 1) * SUB + (value >>> shift) - SUB;
}

/** The middle of bucket `index`. */
function valueAt(index) {
  if (index < 2 * SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  return ((index % SUB) + SUB) * 2 ** shift + Math.floor(2 ** shift / 2);
}

export class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS);
    this.total = 0;
    this.max = 0;
  }

  record(micros) {
    const value = micros < 0 ? 0 : Math.min(Math.round(micros), 2 ** 31 - 1);
    this.counts[indexOf(value)]++;
    this.total++;
    if (value > this.max) this.max = value;
  }

  /** Sparse form for IPC: [[index, count], ...]. */
  toJSON() {
    const buckets = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, total: this.total, max: this.max };
  }

  merge(sparse) {
    for (const [index, count] of sparse.buckets) this.counts[index] += count;
    this.total += sparse.total;
    if (sparse.max > this.max) this.max = sparse.max;
  }

  /** The value at quantile q (0..1), in microseconds; the exact max for q = 1. */
  quantile(q) {
    if (this.total === 0) return NaN;
    if (q >= 1) return this.max;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueAt(i), this.max);
    }
    return this.max;
  }
}
