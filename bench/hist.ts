// A log-linear latency histogram in microseconds: exact below 1,024 µs, then 512 buckets per
// power of two (under 0.2 % error). Mergeable across load workers; serialised sparse.

const LINEAR = 1024;
const SUB = 512;
const BUCKETS = 16384;

function bucketOf(us: number): number {
  const v = Math.max(0, Math.round(us));
  if (v < LINEAR) return v;
  const e = 31 - Math.clz32(v) - 9;
  const idx = LINEAR + (e - 1) * SUB + ((v >>> e) - SUB);
  return Math.min(idx, BUCKETS - 1);
}

function valueOf(idx: number): number {
  if (idx < LINEAR) return idx;
  const e = Math.floor((idx - LINEAR) / SUB) + 1;
  const m = ((idx - LINEAR) % SUB) + SUB;
  return m * 2 ** e + 2 ** e / 2;
}

export type SparseHistogram = Array<[number, number]>;

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sumUs = 0;
  maxUs = 0;

  record(us: number): void {
    const b = bucketOf(us);
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.count += other.count;
    this.sumUs += other.sumUs;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** Value in µs at quantile q (0..1); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(valueOf(i), this.maxUs);
    }
    return this.maxUs;
  }

  toSparse(): { buckets: SparseHistogram; count: number; sumUs: number; maxUs: number } {
    const buckets: SparseHistogram = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) buckets.push([i, c]);
    }
    return { buckets, count: this.count, sumUs: this.sumUs, maxUs: this.maxUs };
  }

  static fromSparse(s: { buckets: SparseHistogram; count: number; sumUs: number; maxUs: number }): Histogram {
    const h = new Histogram();
    for (const [i, c] of s.buckets) h.counts[i] = c;
    h.count = s.count;
    h.sumUs = s.sumUs;
    h.maxUs = s.maxUs;
    return h;
  }
}
