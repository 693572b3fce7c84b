// Znodes kept off the V8 heap, so a million of them cost bytes rather than garbage-collected
// objects. Each node is a number (its id) indexing:
//   - fixed-width fields in typed-array pages, 65,536 nodes per page so the store grows without
//     copying: czxid and ctime (float64), links, ACL, kind and record address (int32): 48 bytes;
//   - an "extra" slot (another 44 bytes) only for a node that has changed since its create or
//     has children: mzxid, pzxid, mtime, version, cversion, aversion, child count and list;
//   - one record in a byte arena: [node id][name length][data length][name][data], where the
//     name is the last path component in UTF-8 and data up to INLINE_DATA_MAX bytes sits
//     inline (larger values stay V8 strings in a side map, as sockets can send them as-is);
//   - a hash index on (parent id, name) chained through the nodes, and each node's children as
//     a list through sibling links (in creation order).
// The arena fills 1 MiB chunks in order; freed records leave holes that are reclaimed by moving
// the live records out of the emptiest chunk once holes exceed half the live bytes.
//
// Snapshots are written while writes go on. While one is open (freeze), a node's fields are
// copied aside before their first change, freed records and ids are not reused and the arena
// does not compact, so the frozen tree can still be walked exactly as it was.
import type { ACL, JuteWriter } from '../../wire/index.js';
import { sameAcl } from './acl.js';
import type { NodeKindValue } from './txn.js';

export const NONE = -1;
export const ROOT = 0;

const PAGE_BITS = 16;
const PAGE_NODES = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_NODES - 1;
// Most znodes never change after their create and never get children; the fields that only
// such a change makes differ from their creation values live in an "extra" slot, which a node
// gets on its first such change. Without one they read as: mzxid = pzxid = czxid,
// mtime = ctime, counters 0, no children.
const EXTRA_PAGE_BITS = 12;
const EXTRA_PAGE_SLOTS = 1 << EXTRA_PAGE_BITS;
const EXTRA_PAGE_MASK = EXTRA_PAGE_SLOTS - 1;

// A node's float64 fields, as callers name them (the first two in every node, the rest extra).
export const F_CZXID = 0;
export const F_CTIME = 1;
export const F_MZXID = 2;
export const F_PZXID = 3;
export const F_MTIME = 4;
const CORE_F_COUNT = 2;
const EXTRA_F_COUNT = 3;

// A node's int32 counters and child list, all extra.
export const I_VERSION = 0;
/** Child creates ever made (ZooKeeper's persisted cversion); sequence suffixes come from it. */
export const I_CHILD_CREATES = 1;
export const I_AVERSION = 2;
const I_NUM_CHILDREN = 3;
const I_FIRST_CHILD = 4;
const EXTRA_I_COUNT = 5;

// Every node's int32 fields.
/** ACL table index · 4 + node kind. */
const C_ACL_KIND = 0;
const C_PARENT = 1;
/** Next sibling, NONE for the last. */
const C_NEXT = 2;
/** Previous sibling; the first child's is the last child, so appends need no tail field. */
const C_PREV = 3;
const C_HASH_NEXT = 4;
const C_REC_CHUNK = 5;
const C_REC_OFFSET = 6;
/** The node's extra slot, NONE until it needs one. */
const C_EXTRA = 7;
const CORE_I_COUNT = 8;

// A record: [node id: int32][name length: uint16][data length: uint16][name][data]. A name of
// LONG_NAME bytes or more has LONG_NAME as its uint16 and its length in an int32 after it.
const REC_HEADER = 8;
const LONG_NAME = 0xffff;
/** Data lengths as read; stored as 0xffff (null) and 0xfffe (in the side map). */
const DATA_NULL = -1;
const DATA_SIDE = -2;
const STORED_NULL = 0xffff;
const STORED_SIDE = 0xfffe;
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
  /** C_* as stored. */
  core: number[];
  /** F_* and I_* as they read (extra slot or not). */
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

function headerSize(nameLen: number): number {
  return nameLen >= LONG_NAME ? REC_HEADER + 4 : REC_HEADER;
}

function recNameLength(buf: Buffer, off: number): number {
  const n = (buf[off + 4] as number) | ((buf[off + 5] as number) << 8);
  return n === LONG_NAME ? buf.readInt32LE(off + REC_HEADER) : n;
}

/** Where the name of the record at off starts. */
function recNameStart(buf: Buffer, off: number): number {
  return off + ((buf[off + 4] as number) === 0xff && (buf[off + 5] as number) === 0xff ? REC_HEADER + 4 : REC_HEADER);
}

/** The data length, or DATA_NULL / DATA_SIDE. */
function recDataLength(buf: Buffer, off: number): number {
  const n = (buf[off + 6] as number) | ((buf[off + 7] as number) << 8);
  return n === STORED_NULL ? DATA_NULL : n === STORED_SIDE ? DATA_SIDE : n;
}

function recSize(buf: Buffer, off: number): number {
  const nameLen = recNameLength(buf, off);
  const n = recDataLength(buf, off);
  return headerSize(nameLen) + nameLen + (n > 0 ? n : 0);
}

function recName(buf: Buffer, off: number): string {
  const start = recNameStart(buf, off);
  return buf.toString('utf8', start, start + recNameLength(buf, off));
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
  /** Every node's fields: czxid, ctime (float64) and C_* (int32). */
  private f64Pages: Float64Array[] = [];
  private i32Pages: Int32Array[] = [];
  /** Extra slots: mzxid, pzxid, mtime (float64) and I_* (int32). */
  private extraF: Float64Array[] = [];
  private extraI: Int32Array[] = [];
  private extrasAllocated = 0;
  private extrasLive = 0;
  private freeExtras: number[] = [];
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
    this.extraF = [];
    this.extraI = [];
    this.extrasAllocated = 0;
    this.extrasLive = 0;
    this.freeExtras = [];
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

  /** A float64 field (F_*). */
  f(id: number, field: number): number {
    const at = (id & PAGE_MASK) * CORE_F_COUNT;
    const core = this.f64Pages[id >>> PAGE_BITS] as Float64Array;
    if (field < CORE_F_COUNT) return core[at + field] as number;
    const x = this.ci(id, C_EXTRA);
    if (x === NONE) return core[at + (field === F_MTIME ? F_CTIME : F_CZXID)] as number;
    return (this.extraF[x >>> EXTRA_PAGE_BITS] as Float64Array)[(x & EXTRA_PAGE_MASK) * EXTRA_F_COUNT + field - CORE_F_COUNT] as number;
  }

  /** An int32 counter or child-list field (I_*). */
  i(id: number, field: number): number {
    const x = this.ci(id, C_EXTRA);
    if (x === NONE) return field === I_FIRST_CHILD ? NONE : 0;
    return (this.extraI[x >>> EXTRA_PAGE_BITS] as Int32Array)[(x & EXTRA_PAGE_MASK) * EXTRA_I_COUNT + field] as number;
  }

  private ci(id: number, field: number): number {
    return (this.i32Pages[id >>> PAGE_BITS] as Int32Array)[(id & PAGE_MASK) * CORE_I_COUNT + field] as number;
  }

  /** Callers touch() first. */
  private setCI(id: number, field: number, v: number): void {
    (this.i32Pages[id >>> PAGE_BITS] as Int32Array)[(id & PAGE_MASK) * CORE_I_COUNT + field] = v;
  }

  /** Callers touch() first. */
  private setXI(id: number, field: number, v: number): void {
    const x = this.extraOf(id);
    (this.extraI[x >>> EXTRA_PAGE_BITS] as Int32Array)[(x & EXTRA_PAGE_MASK) * EXTRA_I_COUNT + field] = v;
  }

  setField(id: number, field: number, v: number): void {
    if (this.f(id, field) === v) return;
    this.touch(id);
    // Without an extra slot, mzxid, pzxid and mtime follow czxid and ctime: keep them.
    const x = this.extraOf(id);
    if (field < CORE_F_COUNT) (this.f64Pages[id >>> PAGE_BITS] as Float64Array)[(id & PAGE_MASK) * CORE_F_COUNT + field] = v;
    else (this.extraF[x >>> EXTRA_PAGE_BITS] as Float64Array)[(x & EXTRA_PAGE_MASK) * EXTRA_F_COUNT + field - CORE_F_COUNT] = v;
  }

  setCounter(id: number, field: typeof I_VERSION | typeof I_CHILD_CREATES | typeof I_AVERSION, v: number): void {
    if (this.i(id, field) === v) return;
    this.touch(id);
    this.setXI(id, field, v);
  }

  /** id's extra slot, given one (holding the values it read as) if it has none. Callers touch() first. */
  private extraOf(id: number): number {
    const x = this.ci(id, C_EXTRA);
    if (x !== NONE) return x;
    let slot = this.freeExtras.pop();
    if (slot === undefined) {
      slot = this.extrasAllocated++;
      if (slot >>> EXTRA_PAGE_BITS >= this.extraF.length) {
        this.extraF.push(new Float64Array(EXTRA_PAGE_SLOTS * EXTRA_F_COUNT));
        this.extraI.push(new Int32Array(EXTRA_PAGE_SLOTS * EXTRA_I_COUNT));
      }
    }
    const core = this.f64Pages[id >>> PAGE_BITS] as Float64Array;
    const at = (id & PAGE_MASK) * CORE_F_COUNT;
    const f = this.extraF[slot >>> EXTRA_PAGE_BITS] as Float64Array;
    const fb = (slot & EXTRA_PAGE_MASK) * EXTRA_F_COUNT;
    f[fb + F_MZXID - CORE_F_COUNT] = core[at + F_CZXID] as number;
    f[fb + F_PZXID - CORE_F_COUNT] = core[at + F_CZXID] as number;
    f[fb + F_MTIME - CORE_F_COUNT] = core[at + F_CTIME] as number;
    const i = this.extraI[slot >>> EXTRA_PAGE_BITS] as Int32Array;
    const ib = (slot & EXTRA_PAGE_MASK) * EXTRA_I_COUNT;
    i[ib + I_VERSION] = 0;
    i[ib + I_CHILD_CREATES] = 0;
    i[ib + I_AVERSION] = 0;
    i[ib + I_NUM_CHILDREN] = 0;
    i[ib + I_FIRST_CHILD] = NONE;
    this.setCI(id, C_EXTRA, slot);
    this.extrasLive++;
    return slot;
  }

  kind(id: number): NodeKindValue {
    return (this.ci(id, C_ACL_KIND) & 3) as NodeKindValue;
  }

  acl(id: number): ACL[] {
    return this.acls[this.ci(id, C_ACL_KIND) >> 2] as ACL[];
  }

  setAcl(id: number, acl: ACL[]): void {
    this.touch(id);
    this.setCI(id, C_ACL_KIND, (this.internAcl(acl) << 2) | this.kind(id));
  }

  /** The session of an ephemeral, the TTL marker of a TTL node, else undefined. */
  owner(id: number): bigint | undefined {
    return this.owners.get(id);
  }

  parent(id: number): number {
    return this.ci(id, C_PARENT);
  }

  firstChild(id: number): number {
    return this.i(id, I_FIRST_CHILD);
  }

  nextSibling(id: number): number {
    return this.ci(id, C_NEXT);
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
    return (this.chunks[this.ci(id, C_REC_CHUNK)] as Chunk).buf;
  }

  nameLength(id: number): number {
    return recNameLength(this.recordBuffer(id), this.ci(id, C_REC_OFFSET));
  }

  name(id: number): string {
    const off = this.ci(id, C_REC_OFFSET);
    const buf = this.recordBuffer(id);
    return recName(buf, off);
  }

  /** Writes the name as a jute ustring (length, then the UTF-8 bytes). */
  writeName(id: number, w: JuteWriter): void {
    const off = this.ci(id, C_REC_OFFSET);
    const buf = this.recordBuffer(id);
    w.writeBufferRange(buf, recNameStart(buf, off), recNameLength(buf, off));
  }

  private rawDataLength(id: number): number {
    return recDataLength(this.recordBuffer(id), this.ci(id, C_REC_OFFSET));
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
    const buf = this.recordBuffer(id);
    const rec = this.ci(id, C_REC_OFFSET);
    const off = recNameStart(buf, rec) + recNameLength(buf, rec);
    return buf.toString('latin1', off, off + n);
  }

  /** Inline value bytes: [buffer, start, length], or null when null or in the side map. */
  inlineData(id: number): [Buffer, number, number] | null {
    const n = this.rawDataLength(id);
    if (n < 0) return null;
    const buf = this.recordBuffer(id);
    const rec = this.ci(id, C_REC_OFFSET);
    return [buf, recNameStart(buf, rec) + recNameLength(buf, rec), n];
  }

  /**
   * Stores name and value as a new record for id. The name is path[start, end) when nameBytes
   * is null (ASCII, copied char by char: cheaper than a native call for a short name), else
   * nameBytes (UTF-8).
   */
  private writeRecord(id: number, path: string, start: number, nameBytes: Buffer | null, nameLen: number, data: string | null): void {
    const inline = data !== null && data.length <= INLINE_DATA_MAX;
    const size = headerSize(nameLen) + nameLen + (inline ? data.length : 0);
    this.allocate(size);
    const chunk = this.allocChunk;
    const off = this.allocOffset;
    const buf = (this.chunks[chunk] as Chunk).buf;
    const nameAt = off + headerSize(nameLen);
    if (nameBytes === null) for (let k = 0; k < nameLen; k++) buf[nameAt + k] = path.charCodeAt(start + k);
    else nameBytes.copy(buf, nameAt, 0, nameLen);
    this.finishRecord(id, chunk, off, nameLen, data, inline);
  }

  /** Writes the header and value of id's record at chunk:off (its name is in place) and points id at it. */
  private finishRecord(id: number, chunk: number, off: number, nameLen: number, data: string | null, inline: boolean): void {
    const buf = (this.chunks[chunk] as Chunk).buf;
    buf.writeInt32LE(id, off);
    const shortName = nameLen < LONG_NAME ? nameLen : LONG_NAME;
    buf[off + 4] = shortName & 0xff;
    buf[off + 5] = shortName >>> 8;
    if (nameLen >= LONG_NAME) buf.writeInt32LE(nameLen, off + REC_HEADER);
    const stored = data === null ? STORED_NULL : inline ? data.length : STORED_SIDE;
    buf[off + 6] = stored & 0xff;
    buf[off + 7] = stored >>> 8;
    if (inline && data !== null && data.length > 0) latin1Write(buf, data, off + headerSize(nameLen) + nameLen, data.length);
    if (data !== null && !inline) this.sideData.set(id, data);
    this.setCI(id, C_REC_CHUNK, chunk);
    this.setCI(id, C_REC_OFFSET, off);
  }

  private recordSize(id: number): number {
    return recSize(this.recordBuffer(id), this.ci(id, C_REC_OFFSET));
  }

  setData(id: number, data: string | null): void {
    this.touch(id);
    this.sideData.delete(id);
    // The name moves with the value; allocating may compact and move the old record, so the
    // name is read after the new space is taken.
    const inline = data !== null && data.length <= INLINE_DATA_MAX;
    const nameLen = this.nameLength(id);
    const size = headerSize(nameLen) + nameLen + (inline ? data.length : 0);
    this.allocate(size);
    const chunk = this.allocChunk;
    const off = this.allocOffset;
    const oldChunk = this.ci(id, C_REC_CHUNK);
    const oldOff = this.ci(id, C_REC_OFFSET);
    const oldSize = this.recordSize(id);
    const oldBuf = (this.chunks[oldChunk] as Chunk).buf;
    copyBytes(oldBuf, recNameStart(oldBuf, oldOff), (this.chunks[chunk] as Chunk).buf, off + headerSize(nameLen), nameLen);
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
      const size = recSize(c.buf, off);
      if (id < this.allocated && this.ci(id, C_REC_CHUNK) === slot && this.ci(id, C_REC_OFFSET) === off) {
        this.allocate(size);
        copyBytes(c.buf, off, (this.chunks[this.allocChunk] as Chunk).buf, this.allocOffset, size);
        this.setCI(id, C_REC_CHUNK, this.allocChunk);
        this.setCI(id, C_REC_OFFSET, this.allocOffset);
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
      this.f64Pages.push(new Float64Array(PAGE_NODES * CORE_F_COUNT));
      this.i32Pages.push(new Int32Array(PAGE_NODES * CORE_I_COUNT));
    }
    return id;
  }

  private initNode(id: number, parent: number, path: string, start: number, nameBytes: Buffer | null, nameLen: number, zxid: number, data: string | null, aclIndex: number, kind: NodeKindValue, timeMs: number, owner: bigint): void {
    const f = this.f64Pages[id >>> PAGE_BITS] as Float64Array;
    const fb = (id & PAGE_MASK) * CORE_F_COUNT;
    f[fb + F_CZXID] = zxid;
    f[fb + F_CTIME] = timeMs;
    const i = this.i32Pages[id >>> PAGE_BITS] as Int32Array;
    const ib = (id & PAGE_MASK) * CORE_I_COUNT;
    i[ib + C_ACL_KIND] = (aclIndex << 2) | kind;
    i[ib + C_PARENT] = parent;
    i[ib + C_NEXT] = NONE;
    i[ib + C_PREV] = NONE;
    i[ib + C_HASH_NEXT] = NONE;
    i[ib + C_EXTRA] = NONE;
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
    for (let x = this.buckets[hash & this.bucketMask] as number; x !== NONE; x = this.ci(x, C_HASH_NEXT)) {
      if (this.ci(x, C_PARENT) !== parent) continue;
      const off = this.ci(x, C_REC_OFFSET);
      const buf = this.recordBuffer(x);
      if (recNameLength(buf, off) !== len) continue;
      const base = recNameStart(buf, off);
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
    if (this.count > this.buckets.length) this.growIndex(id);
    const b = hash & this.bucketMask;
    this.setCI(id, C_HASH_NEXT, this.buckets[b] as number);
    this.buckets[b] = id;
  }

  private indexRemove(id: number): void {
    const b = this.hashOf(id) & this.bucketMask;
    let x = this.buckets[b] as number;
    if (x === id) {
      this.buckets[b] = this.ci(id, C_HASH_NEXT);
      return;
    }
    while (x !== NONE) {
      const next = this.ci(x, C_HASH_NEXT);
      if (next === id) {
        this.setCI(x, C_HASH_NEXT, this.ci(id, C_HASH_NEXT));
        return;
      }
      x = next;
    }
    throw new TreeInvariantError(`node ${id} is missing from the path index`);
  }

  /** The index hash of a node, from its parent and the name in its record (not stored: 4 bytes a node). */
  private hashOf(id: number): number {
    const off = this.ci(id, C_REC_OFFSET);
    const buf = this.recordBuffer(id);
    const start = recNameStart(buf, off);
    const end = start + recNameLength(buf, off);
    let h = hashStart(this.ci(id, C_PARENT));
    for (let k = start; k < end; k++) h = hashStep(h, buf[k] as number);
    return hashFinish(h);
  }

  /**
   * Doubles the buckets and re-indexes every indexed node: each non-root node with a record,
   * except `adding` (initialized, but indexAdd links it after this). The walk goes in id order,
   * not bucket order: ids and their records lie mostly in allocation order, so hashing a node's
   * name from its record reads memory in sequence instead of at random (a 1M-znode log replay
   * spent ~440 ms here walking the buckets).
   */
  private growIndex(adding: number): void {
    const size = this.buckets.length * 2;
    const mask = size - 1;
    const next = new Int32Array(size).fill(NONE);
    for (let id = ROOT + 1; id < this.allocated; id++) {
      if (id === adding || this.ci(id, C_REC_CHUNK) === NONE) continue;
      const b = this.hashOf(id) & mask;
      this.setCI(id, C_HASH_NEXT, next[b] as number);
      next[b] = id;
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
      this.setXI(parent, I_FIRST_CHILD, id);
      this.setCI(id, C_PREV, id);
    } else {
      const last = this.ci(first, C_PREV);
      this.touch(last);
      this.setCI(last, C_NEXT, id);
      this.setCI(id, C_PREV, last);
      this.touch(first);
      this.setCI(first, C_PREV, id);
    }
    this.setXI(parent, I_NUM_CHILDREN, this.i(parent, I_NUM_CHILDREN) + 1);
    return id;
  }

  /** Removes a childless node. */
  remove(id: number): void {
    if (this.i(id, I_NUM_CHILDREN) !== 0) throw new TreeInvariantError(`delete of node ${id} with children`);
    // Its id may be reused by another node.
    if (id === this.lastParent) this.forgetLastParent();
    const parent = this.ci(id, C_PARENT);
    this.indexRemove(id);
    this.touch(id);
    this.touch(parent);
    const first = this.i(parent, I_FIRST_CHILD);
    const next = this.ci(id, C_NEXT);
    const prev = this.ci(id, C_PREV);
    if (id === first) {
      this.setXI(parent, I_FIRST_CHILD, next);
      if (next !== NONE) {
        this.touch(next);
        this.setCI(next, C_PREV, prev);
      }
    } else {
      this.touch(prev);
      this.setCI(prev, C_NEXT, next);
      const after = next !== NONE ? next : first;
      this.touch(after);
      this.setCI(after, C_PREV, prev);
    }
    this.setXI(parent, I_NUM_CHILDREN, this.i(parent, I_NUM_CHILDREN) - 1);
    this.freeRecord(this.ci(id, C_REC_CHUNK), this.recordSize(id));
    this.setCI(id, C_REC_CHUNK, NONE);
    // Safe to reuse at once, even during a snapshot: the node's values were saved by touch().
    const x = this.ci(id, C_EXTRA);
    if (x !== NONE) {
      this.freeExtras.push(x);
      this.extrasLive--;
      this.setCI(id, C_EXTRA, NONE);
    }
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
    frozen.set(id, {
      core: copyOut(this.i32Pages[id >>> PAGE_BITS] as Int32Array, (id & PAGE_MASK) * CORE_I_COUNT, CORE_I_COUNT),
      f: [this.f(id, 0), this.f(id, 1), this.f(id, 2), this.f(id, 3), this.f(id, 4)],
      i: [this.i(id, 0), this.i(id, 1), this.i(id, 2), this.i(id, 3), this.i(id, 4)],
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

  /** For FrozenView: a node's C_* field as frozen. */
  frozenCore(saved: SavedNode | undefined, id: number, field: number): number {
    return saved === undefined ? this.ci(id, field) : (saved.core[field] as number);
  }

  /** For FrozenView: a node's I_* field as frozen. */
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
    const chunk = this.frozenCore(saved, id, C_REC_CHUNK);
    return [(this.chunks[chunk] as Chunk).buf, this.frozenCore(saved, id, C_REC_OFFSET)];
  }

  aclAt(index: number): ACL[] {
    return this.acls[index] as ACL[];
  }

  /** What the store holds, for tests. */
  stats(): { nodes: number; extraSlots: number; arenaLiveBytes: number; arenaCapacityBytes: number; evacuations: number } {
    return { nodes: this.count, extraSlots: this.extrasLive, arenaLiveBytes: this.liveBytes, arenaCapacityBytes: this.capacityBytes, evacuations: this.evacuations };
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

  private core(id: number, field: number): number {
    return this.store.frozenCore(this.saved.get(id), id, field);
  }

  private nameOf(id: number): string {
    const [buf, off] = this.store.frozenRecord(this.saved.get(id), id);
    return recName(buf, off);
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
    const child = this.store.frozenI(this.saved.get(id), id, I_FIRST_CHILD);
    if (child !== NONE) return this.enter(child);
    for (;;) {
      if (id === ROOT) {
        this.done = true;
        return null;
      }
      const sibling = this.core(id, C_NEXT);
      this.paths.pop();
      if (sibling !== NONE) return this.enter(sibling);
      id = this.core(id, C_PARENT);
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
    const n = recDataLength(buf, off);
    const aclKind = st.frozenCore(s, id, C_ACL_KIND);
    return {
      path,
      inline: n >= 0 ? [buf, recNameStart(buf, off) + recNameLength(buf, off), n] : null,
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
