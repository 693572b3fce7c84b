// Znodes kept off the V8 heap, so a million of them cost bytes rather than garbage-collected
// objects. Each node is a number (its id) indexing:
//   - fixed-width fields in typed-array pages (zxids and times as float64, counters and links
//     as int32), 65,536 nodes per page so the store grows without copying;
//   - one record in a byte arena: [node id][name length][data length][name][data], where the
//     name is the last path component in UTF-8 and data up to INLINE_DATA_MAX bytes sits
//     inline (larger values stay V8 strings in a side map, as sockets can send them as-is);
//   - a hash index on (parent id, name) chained through the nodes, and each node's children as
//     a list through sibling links (in creation order).
// The arena fills 1 MiB chunks in order; freed records leave holes that are reclaimed by moving
// the live records out of the emptiest chunk once holes exceed half the live bytes.
//
// Snapshots are written while writes go on. While one is open (freeze), a node's fixed fields
// are copied aside before their first change, freed records and ids are not reused and the
// arena does not compact, so the frozen tree can still be walked exactly as it was.
import type { ACL, JuteWriter } from '../../wire/index.js';
import { sameAcl } from './acl.js';
import type { NodeKindValue } from './txn.js';

export const NONE = -1;
export const ROOT = 0;

const PAGE_BITS = 16;
const PAGE_NODES = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_NODES - 1;

// float64 fields
export const F_CZXID = 0;
export const F_MZXID = 1;
export const F_PZXID = 2;
export const F_CTIME = 3;
export const F_MTIME = 4;
const F_COUNT = 5;

// int32 fields
export const I_VERSION = 0;
/** Child creates ever made (ZooKeeper's persisted cversion); sequence suffixes come from it. */
export const I_CHILD_CREATES = 1;
export const I_AVERSION = 2;
export const I_NUM_CHILDREN = 3;
/** ACL table index · 4 + node kind. */
const I_ACL_KIND = 4;
const I_PARENT = 5;
const I_FIRST_CHILD = 6;
/** Next sibling, NONE for the last. */
const I_NEXT = 7;
/** Previous sibling; the first child's is the last child, so appends need no tail field. */
const I_PREV = 8;
const I_HASH_NEXT = 9;
const I_REC_CHUNK = 10;
const I_REC_OFFSET = 11;
/** The (parent, name) hash: chains are compared and rehashed without reading the arena. */
const I_HASH = 12;
const I_COUNT = 13;

const REC_HEADER = 12;
const DATA_NULL = -1;
const DATA_SIDE = -2;
/** Values longer than this live in the side map. */
export const INLINE_DATA_MAX = 4096;

const CHUNK_BYTES = 1 << 20;
// Records larger than a quarter chunk get a chunk of their own.
/** Compaction starts when holes exceed half the live bytes plus this. */
const WASTE_SLACK = 8 * CHUNK_BYTES;
const SPARE_CHUNKS = 2;

interface Chunk {
  buf: Buffer;
  used: number;
  live: number;
}

/** A node's fields as they were when the snapshot began. */
interface SavedNode {
  // Plain arrays: a typed-array copy would allocate a backing store per touched node.
  f: number[];
  i: number[];
  owner: bigint | undefined;
  side: string | undefined;
}

/** Buffer's own latin1 writer, without write()'s argument parsing (Node has it on every Buffer). */
const latin1Write: (buf: Buffer, s: string, offset: number, length: number) => void =
  typeof (Buffer.prototype as unknown as { latin1Write?: unknown }).latin1Write === 'function'
    ? (buf, s, offset, length) => (buf as unknown as { latin1Write(s: string, offset: number, length: number): number }).latin1Write(s, offset, length)
    : (buf, s, offset, length) => buf.write(s, offset, length, 'latin1');

function copyOut(page: Float64Array | Int32Array, from: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let k = 0; k < count; k++) out[k] = page[from + k] as number;
  return out;
}

/** Copies len bytes; short runs (names) byte by byte, cheaper than Buffer.copy's checks. */
function copyBytes(from: Buffer, fromAt: number, to: Buffer, toAt: number, len: number): void {
  if (len > 64) {
    from.copy(to, toAt, fromAt, fromAt + len);
    return;
  }
  for (let k = 0; k < len; k++) to[toAt + k] = from[fromAt + k] as number;
}

export class TreeInvariantError extends Error {
  override name = 'TreeInvariantError';
}

function hashStart(parent: number): number {
  return Math.imul(parent ^ 0x2545f491, 0x9e3779b1) | 0;
}

function hashStep(h: number, byte: number): number {
  return Math.imul(h ^ byte, 0x01000193);
}

function hashOfBytes(parent: number, bytes: Uint8Array): number {
  let h = hashStart(parent);
  for (let k = 0; k < bytes.length; k++) h = hashStep(h, bytes[k] as number);
  return hashFinish(h);
}

function hashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

export interface ArenaOptions {
  /** Size of the chunks records are packed into. */
  chunkBytes?: number;
  /** Holes tolerated beyond half the live bytes before compacting. */
  slackBytes?: number;
}

export class NodeStore {
  private f64Pages: Float64Array[] = [];
  private i32Pages: Int32Array[] = [];
  /** Ids handed out so far (the high-water mark). */
  private allocated = 0;
  private freeIds: number[] = [];
  /** Live nodes. */
  count = 0;

  private buckets = new Int32Array(1024).fill(NONE);
  private bucketMask = 1023;

  private chunks: Array<Chunk | null> = [];
  private freeChunkSlots: number[] = [];
  private spareBuffers: Buffer[] = [];
  private active = -1;
  private liveBytes = 0;
  private capacityBytes = 0;
  private compacting = false;
  /** Chunks emptied by moving their live records out. */
  private evacuations = 0;

  /** Session id of each ephemeral, ZooKeeper's TTL marker of each TTL node. */
  private owners = new Map<number, bigint>();
  /** Values longer than INLINE_DATA_MAX, latin1. */
  private sideData = new Map<number, string>();

  private acls: ACL[][] = [];
  private aclIndex = new Map<string, number>();
  private lastAcl = -1;

  /** getChildren's encoded name vectors; see ZNode.childrenEncoded. */
  readonly childrenCache = new Map<number, { childCreates: number; numChildren: number; bytes: Buffer }>();

  private frozen: Map<number, SavedNode> | null = null;
  private frozenLimit = 0;
  private deferredIds: number[] = [];
  private deferredFrees: number[] = [];

  /** The parent found by the last lookup walk: its id and a path whose [0, cut) names it. */
  private lastParent = NONE;
  private lastParentPath = '';
  private lastParentCut = -1;

  // Where allocate() put the last record.
  private allocChunk = 0;
  private allocOffset = 0;

  private readonly chunkBytes: number;
  private readonly ownChunkFrom: number;
  private readonly wasteSlackBytes: number;

  /** Tests shrink the chunks and the slack so that the arena compacts often. */
  constructor(rootAcl: ACL[], arena: ArenaOptions = {}) {
    this.chunkBytes = arena.chunkBytes ?? CHUNK_BYTES;
    this.ownChunkFrom = this.chunkBytes >> 2;
    this.wasteSlackBytes = arena.slackBytes ?? WASTE_SLACK;
    this.resetToRoot(rootAcl);
  }

  /** Empties the store down to a root node with zeroed fields. */
  resetToRoot(rootAcl: ACL[]): void {
    this.f64Pages = [];
    this.i32Pages = [];
    this.allocated = 0;
    this.freeIds = [];
    this.count = 0;
    this.buckets = new Int32Array(1024).fill(NONE);
    this.bucketMask = 1023;
    this.chunks = [];
    this.freeChunkSlots = [];
    this.active = -1;
    this.liveBytes = 0;
    this.capacityBytes = 0;
    this.owners.clear();
    this.sideData.clear();
    this.childrenCache.clear();
    this.frozen = null;
    this.deferredIds = [];
    this.deferredFrees = [];
    this.forgetLastParent();
    const root = this.newId();
    this.initNode(root, NONE, '', 0, null, 0, 0, '', this.internAcl(rootAcl), 0, 0, 0n);
  }

  // ---- fixed fields ----

  f(id: number, field: number): number {
    return (this.f64Pages[id >>> PAGE_BITS] as Float64Array)[(id & PAGE_MASK) * F_COUNT + field] as number;
  }

  i(id: number, field: number): number {
    return (this.i32Pages[id >>> PAGE_BITS] as Int32Array)[(id & PAGE_MASK) * I_COUNT + field] as number;
  }

  /** Callers touch() first. */
  private setF(id: number, field: number, v: number): void {
    (this.f64Pages[id >>> PAGE_BITS] as Float64Array)[(id & PAGE_MASK) * F_COUNT + field] = v;
  }

  private setI(id: number, field: number, v: number): void {
    (this.i32Pages[id >>> PAGE_BITS] as Int32Array)[(id & PAGE_MASK) * I_COUNT + field] = v;
  }

  setField(id: number, field: number, v: number): void {
    this.touch(id);
    this.setF(id, field, v);
  }

  setCounter(id: number, field: typeof I_VERSION | typeof I_CHILD_CREATES | typeof I_AVERSION, v: number): void {
    this.touch(id);
    this.setI(id, field, v);
  }

  kind(id: number): NodeKindValue {
    return (this.i(id, I_ACL_KIND) & 3) as NodeKindValue;
  }

  acl(id: number): ACL[] {
    return this.acls[this.i(id, I_ACL_KIND) >> 2] as ACL[];
  }

  setAcl(id: number, acl: ACL[]): void {
    this.touch(id);
    this.setI(id, I_ACL_KIND, (this.internAcl(acl) << 2) | this.kind(id));
  }

  /** The session of an ephemeral, the TTL marker of a TTL node, else undefined. */
  owner(id: number): bigint | undefined {
    return this.owners.get(id);
  }

  parent(id: number): number {
    return this.i(id, I_PARENT);
  }

  firstChild(id: number): number {
    return this.i(id, I_FIRST_CHILD);
  }

  nextSibling(id: number): number {
    return this.i(id, I_NEXT);
  }

  numChildren(id: number): number {
    return this.i(id, I_NUM_CHILDREN);
  }

  /** Nodes share identical ACL lists (ZooKeeper's ACL cache), as numbers in the node. */
  private internAcl(acl: ACL[]): number {
    const last = this.lastAcl;
    if (last >= 0 && sameAcl(acl, this.acls[last] as ACL[])) return last;
    const key = acl.map((a) => `${a.perms},${a.id.scheme},${a.id.id}`).join(';');
    let index = this.aclIndex.get(key);
    if (index === undefined) {
      index = this.acls.length;
      this.acls.push(acl);
      this.aclIndex.set(key, index);
    }
    this.lastAcl = index;
    return index;
  }

  // ---- records: name and data ----

  private recordBuffer(id: number): Buffer {
    return (this.chunks[this.i(id, I_REC_CHUNK)] as Chunk).buf;
  }

  nameLength(id: number): number {
    return this.recordBuffer(id).readInt32LE(this.i(id, I_REC_OFFSET) + 4);
  }

  name(id: number): string {
    const off = this.i(id, I_REC_OFFSET);
    const buf = this.recordBuffer(id);
    return buf.toString('utf8', off + REC_HEADER, off + REC_HEADER + buf.readInt32LE(off + 4));
  }

  /** Writes the name as a jute ustring (length, then the UTF-8 bytes). */
  writeName(id: number, w: JuteWriter): void {
    const off = this.i(id, I_REC_OFFSET);
    const buf = this.recordBuffer(id);
    w.writeBufferRange(buf, off + REC_HEADER, buf.readInt32LE(off + 4));
  }

  private rawDataLength(id: number): number {
    return this.recordBuffer(id).readInt32LE(this.i(id, I_REC_OFFSET) + 8);
  }

  dataLength(id: number): number {
    const n = this.rawDataLength(id);
    if (n >= 0) return n;
    return n === DATA_SIDE ? (this.sideData.get(id) as string).length : 0;
  }

  isDataNull(id: number): boolean {
    return this.rawDataLength(id) === DATA_NULL;
  }

  /** A value kept as a string (longer than INLINE_DATA_MAX), else null. */
  sideValue(id: number): string | null {
    return this.sideData.get(id) ?? null;
  }

  /** The value as latin1, null for a null value. */
  dataLatin1(id: number): string | null {
    const n = this.rawDataLength(id);
    if (n === DATA_NULL) return null;
    if (n === DATA_SIDE) return this.sideData.get(id) as string;
    const off = this.i(id, I_REC_OFFSET) + REC_HEADER + this.nameLength(id);
    return this.recordBuffer(id).toString('latin1', off, off + n);
  }

  /** Inline value bytes: [buffer, start, length], or null when null or in the side map. */
  inlineData(id: number): [Buffer, number, number] | null {
    const n = this.rawDataLength(id);
    if (n < 0) return null;
    return [this.recordBuffer(id), this.i(id, I_REC_OFFSET) + REC_HEADER + this.nameLength(id), n];
  }

  /**
   * Stores name and value as a new record for id. The name is path[start, end) when nameBytes
   * is null (ASCII, copied char by char: cheaper than a native call for a short name), else
   * nameBytes (UTF-8).
   */
  private writeRecord(id: number, path: string, start: number, nameBytes: Buffer | null, nameLen: number, data: string | null): void {
    const inline = data !== null && data.length <= INLINE_DATA_MAX;
    const size = REC_HEADER + nameLen + (inline ? data.length : 0);
    this.allocate(size);
    const chunk = this.allocChunk;
    const off = this.allocOffset;
    const buf = (this.chunks[chunk] as Chunk).buf;
    const nameAt = off + REC_HEADER;
    if (nameBytes === null) for (let k = 0; k < nameLen; k++) buf[nameAt + k] = path.charCodeAt(start + k);
    else nameBytes.copy(buf, nameAt, 0, nameLen);
    this.finishRecord(id, chunk, off, nameLen, data, inline);
  }

  /** Writes the header and value of id's record at chunk:off (its name is in place) and points id at it. */
  private finishRecord(id: number, chunk: number, off: number, nameLen: number, data: string | null, inline: boolean): void {
    const buf = (this.chunks[chunk] as Chunk).buf;
    buf.writeInt32LE(id, off);
    buf.writeInt32LE(nameLen, off + 4);
    buf.writeInt32LE(data === null ? DATA_NULL : inline ? data.length : DATA_SIDE, off + 8);
    if (inline && data !== null && data.length > 0) latin1Write(buf, data, off + REC_HEADER + nameLen, data.length);
    if (data !== null && !inline) this.sideData.set(id, data);
    this.setI(id, I_REC_CHUNK, chunk);
    this.setI(id, I_REC_OFFSET, off);
  }

  private recordSize(id: number): number {
    const n = this.rawDataLength(id);
    return REC_HEADER + this.nameLength(id) + (n > 0 ? n : 0);
  }

  setData(id: number, data: string | null): void {
    this.touch(id);
    this.sideData.delete(id);
    // The name moves with the value; allocating may compact and move the old record, so the
    // name is read after the new space is taken.
    const inline = data !== null && data.length <= INLINE_DATA_MAX;
    const nameLen = this.nameLength(id);
    const size = REC_HEADER + nameLen + (inline ? data.length : 0);
    this.allocate(size);
    const chunk = this.allocChunk;
    const off = this.allocOffset;
    const oldChunk = this.i(id, I_REC_CHUNK);
    const oldOff = this.i(id, I_REC_OFFSET);
    const oldSize = this.recordSize(id);
    copyBytes((this.chunks[oldChunk] as Chunk).buf, oldOff + REC_HEADER, (this.chunks[chunk] as Chunk).buf, off + REC_HEADER, nameLen);
    this.finishRecord(id, chunk, off, nameLen, data, inline);
    this.freeRecord(oldChunk, oldSize);
  }

  // ---- the arena ----

  private allocate(size: number): void {
    if (size > this.ownChunkFrom) {
      const slot = this.newChunk(Buffer.allocUnsafeSlow(size));
      const c = this.chunks[slot] as Chunk;
      c.used = size;
      c.live = size;
      this.liveBytes += size;
      this.allocChunk = slot;
      this.allocOffset = 0;
      return;
    }
    let c = this.active >= 0 ? this.chunks[this.active] : null;
    if (c === null || c === undefined || c.used + size > c.buf.length) {
      const previous = this.active;
      this.active = this.newChunk(this.spareBuffers.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes));
      if (c !== null && c !== undefined && c.live === 0 && this.frozen === null) this.releaseChunk(previous);
      if (!this.compacting && this.frozen === null) this.compactIfWasteful();
      c = this.chunks[this.active] as Chunk;
      if (c.used + size > c.buf.length) {
        this.active = this.newChunk(this.spareBuffers.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes));
        c = this.chunks[this.active] as Chunk;
      }
    }
    this.allocChunk = this.active;
    this.allocOffset = c.used;
    c.used += size;
    c.live += size;
    this.liveBytes += size;
  }

  private newChunk(buf: Buffer): number {
    const chunk: Chunk = { buf, used: 0, live: 0 };
    this.capacityBytes += buf.length;
    const slot = this.freeChunkSlots.pop();
    if (slot !== undefined) {
      this.chunks[slot] = chunk;
      return slot;
    }
    this.chunks.push(chunk);
    return this.chunks.length - 1;
  }

  private freeRecord(chunk: number, size: number): void {
    if (this.frozen !== null) {
      this.deferredFrees.push(chunk, size);
      return;
    }
    const c = this.chunks[chunk] as Chunk;
    c.live -= size;
    this.liveBytes -= size;
    if (c.live === 0 && chunk !== this.active) this.releaseChunk(chunk);
  }

  private releaseChunk(slot: number): void {
    const c = this.chunks[slot] as Chunk;
    this.capacityBytes -= c.buf.length;
    if (c.buf.length === this.chunkBytes && this.spareBuffers.length < SPARE_CHUNKS) this.spareBuffers.push(c.buf);
    this.chunks[slot] = null;
    this.freeChunkSlots.push(slot);
  }

  /** Moves the live records out of the emptiest chunks while the holes are too large. */
  private compactIfWasteful(): void {
    this.compacting = true;
    try {
      for (let round = 0; round < 4 && this.capacityBytes - this.liveBytes > this.liveBytes / 2 + this.wasteSlackBytes; round++) {
        let victim = -1;
        let victimLive = Infinity;
        for (let s = 0; s < this.chunks.length; s++) {
          const c = this.chunks[s];
          if (c === null || c === undefined || s === this.active || c.live >= c.used) continue;
          const ratio = c.live / c.buf.length;
          if (ratio < victimLive) {
            victimLive = ratio;
            victim = s;
          }
        }
        if (victim < 0 || victimLive > 0.75) return;
        this.evacuate(victim);
      }
    } finally {
      this.compacting = false;
    }
  }

  private evacuate(slot: number): void {
    const c = this.chunks[slot] as Chunk;
    let off = 0;
    while (off < c.used && c.live > 0) {
      const id = c.buf.readInt32LE(off);
      const n = c.buf.readInt32LE(off + 8);
      const size = REC_HEADER + c.buf.readInt32LE(off + 4) + (n > 0 ? n : 0);
      if (id < this.allocated && this.i(id, I_REC_CHUNK) === slot && this.i(id, I_REC_OFFSET) === off) {
        this.allocate(size);
        copyBytes(c.buf, off, (this.chunks[this.allocChunk] as Chunk).buf, this.allocOffset, size);
        this.setI(id, I_REC_CHUNK, this.allocChunk);
        this.setI(id, I_REC_OFFSET, this.allocOffset);
        c.live -= size;
        this.liveBytes -= size;
      }
      off += size;
    }
    if (c.live !== 0) throw new TreeInvariantError(`arena chunk ${slot} still has ${c.live} live bytes after moving its records`);
    this.releaseChunk(slot);
    this.evacuations++;
  }

  // ---- ids and pages ----

  private newId(): number {
    // While frozen, ids come from the top so none can alias a node of the frozen tree.
    const reused = this.frozen === null ? this.freeIds.pop() : undefined;
    if (reused !== undefined) return reused;
    const id = this.allocated++;
    if (id >>> PAGE_BITS >= this.f64Pages.length) {
      this.f64Pages.push(new Float64Array(PAGE_NODES * F_COUNT));
      this.i32Pages.push(new Int32Array(PAGE_NODES * I_COUNT));
    }
    return id;
  }

  private initNode(id: number, parent: number, path: string, start: number, nameBytes: Buffer | null, nameLen: number, zxid: number, data: string | null, aclIndex: number, kind: NodeKindValue, timeMs: number, owner: bigint): void {
    const f = this.f64Pages[id >>> PAGE_BITS] as Float64Array;
    const fb = (id & PAGE_MASK) * F_COUNT;
    f[fb + F_CZXID] = zxid;
    f[fb + F_MZXID] = zxid;
    f[fb + F_PZXID] = zxid;
    f[fb + F_CTIME] = timeMs;
    f[fb + F_MTIME] = timeMs;
    const i = this.i32Pages[id >>> PAGE_BITS] as Int32Array;
    const ib = (id & PAGE_MASK) * I_COUNT;
    i[ib + I_VERSION] = 0;
    i[ib + I_CHILD_CREATES] = 0;
    i[ib + I_AVERSION] = 0;
    i[ib + I_NUM_CHILDREN] = 0;
    i[ib + I_ACL_KIND] = (aclIndex << 2) | kind;
    i[ib + I_PARENT] = parent;
    i[ib + I_FIRST_CHILD] = NONE;
    i[ib + I_NEXT] = NONE;
    i[ib + I_PREV] = NONE;
    i[ib + I_HASH_NEXT] = NONE;
    this.writeRecord(id, path, start, nameBytes, nameLen, data);
    if (owner !== 0n) this.owners.set(id, owner);
    this.count++;
  }

  // ---- lookups ----

  /** The node at an absolute path, NONE when there is none. */
  lookup(path: string): number {
    if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return NONE;
    if (path.length === 1) return ROOT;
    const cut = path.lastIndexOf('/');
    if (cut === path.length - 1) return NONE;
    const parent = this.parentAt(path, cut);
    return parent === NONE ? NONE : this.findChild(parent, path, cut + 1, path.length);
  }

  /** The node at path[0, cut) (the parent of whatever path names), NONE when there is none. */
  parentAt(path: string, cut: number): number {
    if (cut === 0) return ROOT;
    // Lookups come in runs under one parent (creates, reads of siblings): the parent of the
    // last walk is kept, so a run costs one hash probe per lookup instead of one per level.
    if (cut === this.lastParentCut) {
      const cached = this.lastParentPath;
      let k = 1;
      while (k < cut && path.charCodeAt(k) === cached.charCodeAt(k)) k++;
      if (k === cut) return this.lastParent;
    }
    let id = ROOT;
    let start = 1;
    for (;;) {
      let end = path.indexOf('/', start);
      if (end === -1 || end > cut) end = cut;
      if (end === start) return NONE;
      id = this.findChild(id, path, start, end);
      if (id === NONE) return NONE;
      if (end === cut) break;
      start = end + 1;
    }
    this.lastParent = id;
    this.lastParentPath = path;
    this.lastParentCut = cut;
    return id;
  }

  private forgetLastParent(): void {
    this.lastParent = NONE;
    this.lastParentPath = '';
    this.lastParentCut = -1;
  }

  /** The child of parent named path[start, end). */
  findChild(parent: number, path: string, start: number, end: number): number {
    let h = hashStart(parent);
    for (let k = start; k < end; k++) {
      const c = path.charCodeAt(k);
      if (c >= 0x80) {
        const bytes = Buffer.from(path.slice(start, end), 'utf8');
        return this.findInBucket(hashOfBytes(parent, bytes), parent, path, start, end, bytes);
      }
      h = hashStep(h, c);
    }
    return this.findInBucket(hashFinish(h), parent, path, start, end, null);
  }

  /** The child of parent in hash's bucket named path[start, end) (ASCII) or nameBytes. */
  private findInBucket(hash: number, parent: number, path: string, start: number, end: number, nameBytes: Buffer | null): number {
    const len = nameBytes === null ? end - start : nameBytes.length;
    for (let x = this.buckets[hash & this.bucketMask] as number; x !== NONE; x = this.i(x, I_HASH_NEXT)) {
      if (this.i(x, I_HASH) !== hash || this.i(x, I_PARENT) !== parent) continue;
      const off = this.i(x, I_REC_OFFSET);
      const buf = this.recordBuffer(x);
      if (buf.readInt32LE(off + 4) !== len) continue;
      const base = off + REC_HEADER;
      if (nameBytes !== null) {
        if (buf.compare(nameBytes, 0, len, base, base + len) === 0) return x;
        continue;
      }
      let k = 0;
      while (k < len && buf[base + k] === path.charCodeAt(start + k)) k++;
      if (k === len) return x;
    }
    return NONE;
  }

  private indexAdd(id: number, hash: number): void {
    this.setI(id, I_HASH, hash);
    if (this.count > this.buckets.length) this.growIndex();
    const b = hash & this.bucketMask;
    this.setI(id, I_HASH_NEXT, this.buckets[b] as number);
    this.buckets[b] = id;
  }

  private indexRemove(id: number): void {
    const b = this.i(id, I_HASH) & this.bucketMask;
    let x = this.buckets[b] as number;
    if (x === id) {
      this.buckets[b] = this.i(id, I_HASH_NEXT);
      return;
    }
    while (x !== NONE) {
      const next = this.i(x, I_HASH_NEXT);
      if (next === id) {
        this.setI(x, I_HASH_NEXT, this.i(id, I_HASH_NEXT));
        return;
      }
      x = next;
    }
    throw new TreeInvariantError(`node ${id} is missing from the path index`);
  }

  private growIndex(): void {
    const old = this.buckets;
    const size = old.length * 2;
    const mask = size - 1;
    const next = new Int32Array(size).fill(NONE);
    for (let b = 0; b < old.length; b++) {
      let x = old[b] as number;
      while (x !== NONE) {
        const after = this.i(x, I_HASH_NEXT);
        const nb = this.i(x, I_HASH) & mask;
        this.setI(x, I_HASH_NEXT, next[nb] as number);
        next[nb] = x;
        x = after;
      }
    }
    this.buckets = next;
    this.bucketMask = mask;
  }

  // ---- structure changes ----

  /**
   * Adds a child named path[start, end) as the last of parent's children; returns its id, or
   * NONE when parent already has a child of that name.
   */
  addChild(parent: number, path: string, start: number, end: number, data: string | null, acl: ACL[], kind: NodeKindValue, owner: bigint, zxid: number, timeMs: number): number {
    let h = hashStart(parent);
    let nameBytes: Buffer | null = null;
    for (let k = start; k < end; k++) {
      const c = path.charCodeAt(k);
      if (c >= 0x80) {
        nameBytes = Buffer.from(path.slice(start, end), 'utf8');
        break;
      }
      h = hashStep(h, c);
    }
    const hash = nameBytes === null ? hashFinish(h) : hashOfBytes(parent, nameBytes);
    if (this.findInBucket(hash, parent, path, start, end, nameBytes) !== NONE) return NONE;
    const id = this.newId();
    this.initNode(id, parent, path, start, nameBytes, nameBytes === null ? end - start : nameBytes.length, zxid, data, this.internAcl(acl), kind, timeMs, owner);
    this.indexAdd(id, hash);
    this.touch(parent);
    const first = this.i(parent, I_FIRST_CHILD);
    if (first === NONE) {
      this.setI(parent, I_FIRST_CHILD, id);
      this.setI(id, I_PREV, id);
    } else {
      const last = this.i(first, I_PREV);
      this.touch(last);
      this.setI(last, I_NEXT, id);
      this.setI(id, I_PREV, last);
      this.touch(first);
      this.setI(first, I_PREV, id);
    }
    this.setI(parent, I_NUM_CHILDREN, this.i(parent, I_NUM_CHILDREN) + 1);
    return id;
  }

  /** Removes a childless node. */
  remove(id: number): void {
    if (this.i(id, I_NUM_CHILDREN) !== 0) throw new TreeInvariantError(`delete of node ${id} with children`);
    // Its id may be reused by another node.
    if (id === this.lastParent) this.forgetLastParent();
    const parent = this.i(id, I_PARENT);
    this.indexRemove(id);
    this.touch(id);
    this.touch(parent);
    const first = this.i(parent, I_FIRST_CHILD);
    const next = this.i(id, I_NEXT);
    const prev = this.i(id, I_PREV);
    if (id === first) {
      this.setI(parent, I_FIRST_CHILD, next);
      if (next !== NONE) {
        this.touch(next);
        this.setI(next, I_PREV, prev);
      }
    } else {
      this.touch(prev);
      this.setI(prev, I_NEXT, next);
      const after = next !== NONE ? next : first;
      this.touch(after);
      this.setI(after, I_PREV, prev);
    }
    this.setI(parent, I_NUM_CHILDREN, this.i(parent, I_NUM_CHILDREN) - 1);
    this.freeRecord(this.i(id, I_REC_CHUNK), this.recordSize(id));
    this.setI(id, I_REC_CHUNK, NONE);
    this.owners.delete(id);
    this.sideData.delete(id);
    this.childrenCache.delete(id);
    this.count--;
    if (this.frozen !== null) this.deferredIds.push(id);
    else this.freeIds.push(id);
  }

  // ---- snapshots ----

  /** Copies a node's fields aside before their first change while a snapshot is open. */
  private touch(id: number): void {
    const frozen = this.frozen;
    if (frozen === null || id >= this.frozenLimit || frozen.has(id)) return;
    const fb = (id & PAGE_MASK) * F_COUNT;
    const ib = (id & PAGE_MASK) * I_COUNT;
    frozen.set(id, {
      f: copyOut(this.f64Pages[id >>> PAGE_BITS] as Float64Array, fb, F_COUNT),
      i: copyOut(this.i32Pages[id >>> PAGE_BITS] as Int32Array, ib, I_COUNT),
      owner: this.owners.get(id),
      side: this.sideData.get(id),
    });
  }

  /** Begins a snapshot: until thaw(), FrozenView reads the tree as it is now. */
  freeze(): FrozenView {
    if (this.frozen !== null) throw new TreeInvariantError('a snapshot is already being written');
    this.frozen = new Map();
    this.frozenLimit = this.allocated;
    return new FrozenView(this, this.frozen);
  }

  thaw(): void {
    this.frozen = null;
    for (const id of this.deferredIds) this.freeIds.push(id);
    this.deferredIds = [];
    const frees = this.deferredFrees;
    this.deferredFrees = [];
    for (let k = 0; k < frees.length; k += 2) this.freeRecord(frees[k] as number, frees[k + 1] as number);
  }

  /** For FrozenView: a node's int32 field as frozen. */
  frozenI(saved: SavedNode | undefined, id: number, field: number): number {
    return saved === undefined ? this.i(id, field) : (saved.i[field] as number);
  }

  frozenF(saved: SavedNode | undefined, id: number, field: number): number {
    return saved === undefined ? this.f(id, field) : (saved.f[field] as number);
  }

  frozenOwner(saved: SavedNode | undefined, id: number): bigint | undefined {
    return saved === undefined ? this.owners.get(id) : saved.owner;
  }

  frozenSide(saved: SavedNode | undefined, id: number): string | undefined {
    return saved === undefined ? this.sideData.get(id) : saved.side;
  }

  frozenRecord(saved: SavedNode | undefined, id: number): [Buffer, number] {
    const chunk = this.frozenI(saved, id, I_REC_CHUNK);
    return [(this.chunks[chunk] as Chunk).buf, this.frozenI(saved, id, I_REC_OFFSET)];
  }

  aclAt(index: number): ACL[] {
    return this.acls[index] as ACL[];
  }

  /** What the store holds, for tests. */
  stats(): { nodes: number; arenaLiveBytes: number; arenaCapacityBytes: number; evacuations: number } {
    return { nodes: this.count, arenaLiveBytes: this.liveBytes, arenaCapacityBytes: this.capacityBytes, evacuations: this.evacuations };
  }
}

/** A node's stored fields, as snapshots carry them. */
export interface NodeFields {
  path: string;
  acl: ACL[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  childCreates: number;
  aversion: number;
  kind: NodeKindValue;
}

/** One node of a frozen tree, as the snapshot writer reads it. */
export interface FrozenNode extends NodeFields {
  /** The value as [buffer, start, length], or the side string, or null. */
  inline: [Buffer, number, number] | null;
  side: string | null;
  owner: bigint | undefined;
}

/**
 * The tree as it was at freeze(), walked depth first from the root (every parent before its
 * children, as loading needs), a piece at a time.
 */
export class FrozenView {
  private current = NONE;
  private paths: string[] = [];
  private done = false;

  constructor(
    private readonly store: NodeStore,
    private readonly saved: Map<number, SavedNode>,
  ) {}

  private ival(id: number, field: number): number {
    return this.store.frozenI(this.saved.get(id), id, field);
  }

  private nameOf(id: number): string {
    const [buf, off] = this.store.frozenRecord(this.saved.get(id), id);
    return buf.toString('utf8', off + REC_HEADER, off + REC_HEADER + buf.readInt32LE(off + 4));
  }

  /** The next node in depth-first order, null after the last. */
  next(): FrozenNode | null {
    if (this.done) return null;
    if (this.current === NONE) {
      this.current = ROOT;
      this.paths.push('/');
      return this.read(ROOT, '/');
    }
    let id = this.current;
    const child = this.ival(id, I_FIRST_CHILD);
    if (child !== NONE) return this.enter(child);
    for (;;) {
      if (id === ROOT) {
        this.done = true;
        return null;
      }
      const sibling = this.ival(id, I_NEXT);
      this.paths.pop();
      if (sibling !== NONE) return this.enter(sibling);
      id = this.ival(id, I_PARENT);
      this.current = id;
    }
  }

  /** Moves to id, a child of the node whose path is on top of the stack. */
  private enter(id: number): FrozenNode {
    const parentPath = this.paths[this.paths.length - 1] as string;
    const path = parentPath === '/' ? `/${this.nameOf(id)}` : `${parentPath}/${this.nameOf(id)}`;
    this.paths.push(path);
    this.current = id;
    return this.read(id, path);
  }

  private read(id: number, path: string): FrozenNode {
    const s = this.saved.get(id);
    const st = this.store;
    const [buf, off] = st.frozenRecord(s, id);
    const nameLen = buf.readInt32LE(off + 4);
    const n = buf.readInt32LE(off + 8);
    const aclKind = st.frozenI(s, id, I_ACL_KIND);
    return {
      path,
      inline: n >= 0 ? [buf, off + REC_HEADER + nameLen, n] : null,
      side: n === DATA_SIDE ? (st.frozenSide(s, id) ?? null) : null,
      acl: st.aclAt(aclKind >> 2),
      czxid: st.frozenF(s, id, F_CZXID),
      mzxid: st.frozenF(s, id, F_MZXID),
      pzxid: st.frozenF(s, id, F_PZXID),
      ctime: st.frozenF(s, id, F_CTIME),
      mtime: st.frozenF(s, id, F_MTIME),
      version: st.frozenI(s, id, I_VERSION),
      childCreates: st.frozenI(s, id, I_CHILD_CREATES),
      aversion: st.frozenI(s, id, I_AVERSION),
      kind: (aclKind & 3) as NodeKindValue,
      owner: st.frozenOwner(s, id),
    };
  }
}
