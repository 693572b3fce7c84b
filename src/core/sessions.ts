// Session expiry on the server's clock, in tickTime buckets (ZooKeeper's ExpiryQueue):
// expireAt = roundUp(now + timeout, tick). Pure: time comes in as arguments.

export class SessionTracker {
  private readonly tickMs: number;
  private readonly expireAtBySession = new Map<bigint, number>();
  private readonly buckets = new Map<number, Set<bigint>>();
  private nextId: bigint;

  constructor(tickMs: number, serverId: number, nowMs: number) {
    this.tickMs = tickMs;
    this.nextId = initialSessionId(serverId, nowMs);
  }

  /** A fresh id: server id in the top byte, time below, then +1 per session (as ZooKeeper). */
  newSessionId(): bigint {
    const id = this.nextId;
    this.nextId += 1n;
    return id;
  }

  touch(sessionId: bigint, timeoutMs: number, nowMs: number): void {
    const expireAt = Math.ceil((nowMs + timeoutMs) / this.tickMs) * this.tickMs;
    const prev = this.expireAtBySession.get(sessionId);
    if (prev === expireAt) return;
    if (prev !== undefined) this.bucketRemove(prev, sessionId);
    this.expireAtBySession.set(sessionId, expireAt);
    let bucket = this.buckets.get(expireAt);
    if (bucket === undefined) this.buckets.set(expireAt, (bucket = new Set()));
    bucket.add(sessionId);
  }

  remove(sessionId: bigint): void {
    const prev = this.expireAtBySession.get(sessionId);
    if (prev === undefined) return;
    this.bucketRemove(prev, sessionId);
    this.expireAtBySession.delete(sessionId);
  }

  ids(): IterableIterator<bigint> {
    return this.expireAtBySession.keys();
  }

  has(sessionId: bigint): boolean {
    return this.expireAtBySession.has(sessionId);
  }

  expireAt(sessionId: bigint): number | undefined {
    return this.expireAtBySession.get(sessionId);
  }

  /** Sessions whose time has come; they are removed from the tracker. */
  expire(nowMs: number): bigint[] {
    const out: bigint[] = [];
    for (const [at, bucket] of this.buckets) {
      if (at > nowMs) continue;
      for (const id of bucket) {
        out.push(id);
        this.expireAtBySession.delete(id);
      }
      this.buckets.delete(at);
    }
    return out;
  }

  /** Buckets for the dump four-letter word: expiry time → sessions. */
  snapshot(): Array<[number, bigint[]]> {
    return [...this.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([at, set]) => [at, [...set]]);
  }

  get size(): number {
    return this.expireAtBySession.size;
  }

  private bucketRemove(at: number, sessionId: bigint): void {
    const bucket = this.buckets.get(at);
    if (bucket === undefined) return;
    bucket.delete(sessionId);
    if (bucket.size === 0) this.buckets.delete(at);
  }
}

const MASK64 = (1n << 64n) - 1n;

export function initialSessionId(serverId: number, nowMs: number): bigint {
  const timePart = ((BigInt(nowMs) << 24n) & MASK64) >> 8n;
  return toSigned(((BigInt(serverId) << 56n) | timePart) & MASK64);
}

function toSigned(v: bigint): bigint {
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}
