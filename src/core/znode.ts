// One znode, laid out for a million of them: a fixed-shape class (in-object fields), data kept
// as a latin1 string (about 16 bytes of overhead where a Buffer costs ~90), the children set
// made only when the first child arrives and holding the children's own path strings (the
// tree's map keys, so no second copy of each name), ACL lists shared between nodes, and the
// node kind folded into ephemeralOwner as ZooKeeper does (containers and TTL nodes carry
// marker values there, and report 0 to clients).
import { JuteWriter } from '../../wire/index.js';
import type { ACL } from '../../wire/index.js';
import { NodeKind } from './txn.js';
import type { NodeKindValue } from './txn.js';

/** Shared so that non-ephemeral nodes do not each hold their own 0n. */
export const NO_OWNER = 0n;
/** EphemeralType.CONTAINER: 0x8000000000000000. */
export const CONTAINER_OWNER = -(2n ** 63n);
/** EphemeralType.TTL: 0xFF in the top byte, the ttl in ms below. */
const TTL_OWNER_BASE = -(2n ** 56n);

export function dataToString(data: Buffer | null): string | null {
  return data === null ? null : data.toString('latin1');
}

const TIME_SPLIT = 2 ** 30;
/** Truncating division keeps t = hi·2^30 + lo exact for every safe integer, negative ones too. */
function timeHi(timeMs: number): number {
  return (timeMs / TIME_SPLIT) | 0;
}
function timeLo(timeMs: number): number {
  return (timeMs % TIME_SPLIT) | 0;
}

function ownerFor(kind: NodeKindValue, owner: bigint, ttlMs: number): bigint {
  switch (kind) {
    case NodeKind.ephemeral:
      return owner;
    case NodeKind.container:
      return CONTAINER_OWNER;
    case NodeKind.ttl:
      return TTL_OWNER_BASE | BigInt(ttlMs);
    default:
      return NO_OWNER;
  }
}

/**
 * getChildren's encoded name vectors, per node. An entry is valid while the node's
 * (child creates, live children) pair is unchanged: every create bumps the first and every
 * delete lowers the second, so no write has to touch the cache.
 */
const childrenWireCache = new WeakMap<ZNode, { childCreates: number; numChildren: number; bytes: Buffer }>();

/** The fields a node's later transactions change. */
export interface ZNodeState {
  mzxid: number;
  pzxid: number;
  mtime: number;
  version: number;
  childCreates: number;
  aversion: number;
}

export class ZNode {
  /** The node's bytes, one char per byte (latin1); null when the client stored null. */
  dataBytes: string | null;
  acl: ACL[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  // Times are ms since the epoch, beyond V8's small integers: a plain field holds a boxed
  // double, one more heap object per node for the GC to trace. Split into two small integers
  // (t = hi·2^30 + lo) they stay inside the node.
  private ctimeHi: number;
  private ctimeLo: number;
  private mtimeHi: number;
  private mtimeLo: number;
  version: number;
  /** Child creates ever made (ZooKeeper's persisted cversion); sequence suffixes come from it. */
  childCreates: number;
  aversion: number;
  /** Session id for ephemerals; a marker for containers and TTL nodes; 0 otherwise. */
  ephemeralOwner: bigint;
  /** Full paths of the children; null until the node has had a child. */
  children: Set<string> | null;

  constructor(dataBytes: string | null, acl: ACL[], zxid: number, timeMs: number, kind: NodeKindValue, owner: bigint, ttlMs: number) {
    this.dataBytes = dataBytes;
    this.acl = acl;
    this.czxid = zxid;
    this.mzxid = zxid;
    this.pzxid = zxid;
    this.ctimeHi = timeHi(timeMs);
    this.ctimeLo = timeLo(timeMs);
    this.mtimeHi = this.ctimeHi;
    this.mtimeLo = this.ctimeLo;
    this.version = 0;
    this.childCreates = 0;
    this.aversion = 0;
    this.ephemeralOwner = ownerFor(kind, owner, ttlMs);
    this.children = null;
  }

  get ctime(): number {
    return this.ctimeHi * TIME_SPLIT + this.ctimeLo;
  }

  get mtime(): number {
    return this.mtimeHi * TIME_SPLIT + this.mtimeLo;
  }

  set mtime(timeMs: number) {
    this.mtimeHi = timeHi(timeMs);
    this.mtimeLo = timeLo(timeMs);
  }

  get kind(): NodeKindValue {
    const o = this.ephemeralOwner;
    if (o === NO_OWNER) return NodeKind.persistent;
    if (o === CONTAINER_OWNER) return NodeKind.container;
    if (o >> 56n === -1n) return NodeKind.ttl;
    return NodeKind.ephemeral;
  }

  get ttlMs(): number {
    return this.kind === NodeKind.ttl ? Number(BigInt.asUintN(56, this.ephemeralOwner)) : 0;
  }

  /** What clients see as ephemeralOwner: only real ephemerals show their session. */
  get visibleOwner(): bigint {
    return this.kind === NodeKind.ephemeral ? this.ephemeralOwner : NO_OWNER;
  }

  get numChildren(): number {
    return this.children === null ? 0 : this.children.size;
  }

  get dataLength(): number {
    return this.dataBytes === null ? 0 : this.dataBytes.length;
  }

  /** A copy of the data as bytes. */
  get data(): Buffer | null {
    return this.dataBytes === null ? null : Buffer.from(this.dataBytes, 'latin1');
  }

  addChild(childPath: string): void {
    if (this.children === null) this.children = new Set();
    this.children.add(childPath);
  }

  removeChild(childPath: string): void {
    this.children?.delete(childPath);
  }

  childNames(): string[] {
    const out: string[] = [];
    if (this.children !== null) for (const p of this.children) out.push(p.slice(p.lastIndexOf('/') + 1));
    return out;
  }

  /** The children as a jute vector<ustring>, encoded once per change. */
  childrenEncoded(): Buffer {
    const cached = childrenWireCache.get(this);
    if (cached !== undefined && cached.childCreates === this.childCreates && cached.numChildren === this.numChildren) return cached.bytes;
    const w = new JuteWriter(16 + this.numChildren * 16);
    w.writeInt(this.numChildren);
    if (this.children !== null) for (const p of this.children) w.writeUString(p.slice(p.lastIndexOf('/') + 1));
    const bytes = w.toBuffer();
    childrenWireCache.set(this, { childCreates: this.childCreates, numChildren: this.numChildren, bytes });
    return bytes;
  }

  /** Takes over what changes after creation (snapshot load, copy-on-write). */
  restoreState(s: ZNodeState): this {
    this.mzxid = s.mzxid;
    this.pzxid = s.pzxid;
    this.mtime = s.mtime;
    this.version = s.version;
    this.childCreates = s.childCreates;
    this.aversion = s.aversion;
    return this;
  }

  /** A copy for copy-on-write: the children set is shared (snapshots do not read it). */
  clone(): ZNode {
    const c = new ZNode(this.dataBytes, this.acl, this.czxid, this.ctime, NodeKind.persistent, NO_OWNER, 0).restoreState(this);
    c.ephemeralOwner = this.ephemeralOwner;
    c.children = this.children;
    return c;
  }
}
