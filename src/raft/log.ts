// The Raft log as the core sees it: a base point (the newest entry compacted away, i.e. covered
// by a snapshot) and the entries after it, all in memory. `writtenIndex` is how far entries
// were handed to the shell to write; `stableIndex` how far the shell reported them durable.
import type { Entry, SnapshotPoint } from './types.js';

export class RaftLog {
  /** Newest compacted entry; entries[0] has index base.index + 1. */
  private base: SnapshotPoint;
  private entries: Entry[];
  /** Entries up to here are durable (as far as this core knows). */
  stableIndex: number;
  /** Entries up to here were handed to the shell (durable, or being written). */
  private writtenIndex: number;
  /** Smallest index changed since the shell last took unstable entries (a truncation point). */
  private dirtyFrom: number | null = null;

  constructor(base: SnapshotPoint, entries: Entry[]) {
    this.base = { ...base };
    this.entries = entries;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]?.index !== base.index + 1 + i) throw new Error(`raft log: entry ${i} has index ${entries[i]?.index}, expected ${base.index + 1 + i}`);
    }
    this.stableIndex = this.lastIndex;
    this.writtenIndex = this.lastIndex;
  }

  get firstIndex(): number {
    return this.base.index + 1;
  }

  get lastIndex(): number {
    return this.base.index + this.entries.length;
  }

  get lastTerm(): number {
    return this.entries.at(-1)?.term ?? this.base.term;
  }

  get basePoint(): SnapshotPoint {
    return { ...this.base };
  }

  /** Term of the entry at `index`, or null if it is compacted away or beyond the end. */
  termAt(index: number): number | null {
    if (index === this.base.index) return this.base.term;
    if (index < this.base.index || index > this.lastIndex) return null;
    return (this.entries[index - this.base.index - 1] as Entry).term;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.base.index - 1];
  }

  /** Entries [from, to] (inclusive), clipped to what is in memory, at most `maxBytes` after the first. */
  slice(from: number, to: number, maxBytes = Infinity): Entry[] {
    const lo = Math.max(from, this.firstIndex);
    const hi = Math.min(to, this.lastIndex);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i <= hi; i++) {
      const e = this.entries[i - this.base.index - 1] as Entry;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entry: Entry): void {
    if (entry.index !== this.lastIndex + 1) throw new Error(`raft log: append of ${entry.index} after ${this.lastIndex}`);
    this.entries.push(entry);
  }

  /** Drops every entry with index >= from (a conflicting suffix from an older leader). */
  truncateFrom(from: number): void {
    if (from <= this.base.index) throw new Error(`raft log: cannot truncate at ${from}, compacted up to ${this.base.index}`);
    if (from > this.lastIndex) return;
    this.entries.length = from - this.base.index - 1;
    if (from <= this.writtenIndex) {
      // Already on disk or on its way: the shell must cut the durable log before writing more.
      this.writtenIndex = from - 1;
      this.stableIndex = Math.min(this.stableIndex, from - 1);
      this.dirtyFrom = this.dirtyFrom === null ? from : Math.min(this.dirtyFrom, from);
    }
  }

  /** Replaces everything with a snapshot's point (a follower far behind). */
  resetTo(point: SnapshotPoint): void {
    // Everything goes, even entries that might agree: the shell restarts its durable log after
    // the snapshot, and the leader resends what follows it.
    this.base = { ...point };
    this.entries = [];
    this.stableIndex = point.index;
    this.writtenIndex = point.index;
    this.dirtyFrom = null;
  }

  /** Forgets entries up to `index` (a snapshot covers them and the shell dropped them from disk). */
  compact(index: number): void {
    if (index <= this.base.index) return;
    const upTo = Math.min(index, this.stableIndex);
    const term = this.termAt(upTo);
    if (term === null) return;
    this.entries = this.entries.slice(upTo - this.base.index);
    this.base = { index: upTo, term };
  }

  /** Entries the shell has not made durable yet, and where the durable log must be cut first. */
  takeUnstable(): { truncateFrom: number | null; entries: Entry[] } {
    const truncateFrom = this.dirtyFrom;
    this.dirtyFrom = null;
    const entries = this.slice(this.writtenIndex + 1, this.lastIndex);
    this.writtenIndex = this.lastIndex;
    return { truncateFrom, entries };
  }

  hasUnstable(): boolean {
    return this.dirtyFrom !== null || this.lastIndex > this.writtenIndex;
  }

  /** The shell made entries up to `point` durable; ignored if they were replaced meanwhile. */
  markStable(point: SnapshotPoint): void {
    if (point.index <= this.stableIndex || point.index > this.writtenIndex) return;
    if (this.termAt(point.index) !== point.term) return;
    this.stableIndex = point.index;
  }

  /** Raft's up-to-date check for votes. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex);
  }
}
