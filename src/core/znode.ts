// A znode as the rest of the server reads it: a short-lived view of one node in the NodeStore
// (its id and getters). Views are made per lookup and read fields when asked, so a view must
// not be kept across a change to the tree.
import { JuteWriter } from '../../wire/index.js';
import type { ACL } from '../../wire/index.js';
import { NodeKind } from './txn.js';
import type { NodeKindValue } from './txn.js';
import { F_CTIME, F_CZXID, F_MTIME, F_MZXID, F_PZXID, I_AVERSION, I_CHILD_CREATES, I_VERSION } from './node-store.js';
import type { NodeStore } from './node-store.js';

/** Shared so that non-ephemeral nodes do not each hold their own 0n. */
export const NO_OWNER = 0n;
/** EphemeralType.CONTAINER: 0x8000000000000000. */
export const CONTAINER_OWNER = -(2n ** 63n);
/** EphemeralType.TTL: 0xFF in the top byte, the ttl in ms below. */
const TTL_OWNER_BASE = -(2n ** 56n);

export function dataToString(data: Buffer | null): string | null {
  return data === null ? null : data.toString('latin1');
}

/** What the store keeps as owner for a new node: a session, a TTL marker, or 0 (nothing). */
export function ownerFor(kind: NodeKindValue, owner: bigint, ttlMs: number): bigint {
  switch (kind) {
    case NodeKind.ephemeral:
      return owner;
    case NodeKind.ttl:
      return TTL_OWNER_BASE | BigInt(ttlMs);
    default:
      return NO_OWNER;
  }
}

/** ZooKeeper's ephemeralOwner for a node of this kind and stored owner (containers: a marker). */
export function ephemeralOwnerOf(kind: NodeKindValue, stored: bigint | undefined): bigint {
  if (kind === NodeKind.container) return CONTAINER_OWNER;
  return stored ?? NO_OWNER;
}

export function ttlOf(kind: NodeKindValue, stored: bigint | undefined): number {
  return kind === NodeKind.ttl && stored !== undefined ? Number(BigInt.asUintN(56, stored)) : 0;
}

/** How many getChildren vectors the cache keeps (the oldest goes first). */
const CHILDREN_CACHE_ENTRIES = 256;

export class ZNode {
  constructor(
    private readonly store: NodeStore,
    readonly id: number,
  ) {}

  get acl(): ACL[] {
    return this.store.acl(this.id);
  }
  get czxid(): number {
    return this.store.f(this.id, F_CZXID);
  }
  get mzxid(): number {
    return this.store.f(this.id, F_MZXID);
  }
  get pzxid(): number {
    return this.store.f(this.id, F_PZXID);
  }
  get ctime(): number {
    return this.store.f(this.id, F_CTIME);
  }
  get mtime(): number {
    return this.store.f(this.id, F_MTIME);
  }
  get version(): number {
    return this.store.i(this.id, I_VERSION);
  }
  /** Child creates ever made (ZooKeeper's persisted cversion); sequence suffixes come from it. */
  get childCreates(): number {
    return this.store.i(this.id, I_CHILD_CREATES);
  }
  get aversion(): number {
    return this.store.i(this.id, I_AVERSION);
  }
  get kind(): NodeKindValue {
    return this.store.kind(this.id);
  }
  /** Session id for ephemerals; a marker for containers and TTL nodes; 0 otherwise. */
  get ephemeralOwner(): bigint {
    return ephemeralOwnerOf(this.kind, this.store.owner(this.id));
  }
  get ttlMs(): number {
    return ttlOf(this.kind, this.store.owner(this.id));
  }
  /** What clients see as ephemeralOwner: only real ephemerals show their session. */
  get visibleOwner(): bigint {
    return this.kind === NodeKind.ephemeral ? this.ephemeralOwner : NO_OWNER;
  }
  get numChildren(): number {
    return this.store.numChildren(this.id);
  }
  get dataLength(): number {
    return this.store.dataLength(this.id);
  }
  /** A copy of the data as bytes. */
  get data(): Buffer | null {
    const latin1 = this.store.dataLatin1(this.id);
    return latin1 === null ? null : Buffer.from(latin1, 'latin1');
  }
  /** The data as latin1 (one char per byte). */
  get dataLatin1(): string | null {
    return this.store.dataLatin1(this.id);
  }
  /** A large value, kept as a string that a socket can send as it is; null for small values. */
  get largeValue(): string | null {
    return this.store.sideValue(this.id);
  }

  /** Writes the data as a jute buffer field. */
  writeData(w: JuteWriter): void {
    const inline = this.store.inlineData(this.id);
    if (inline !== null) w.writeBufferRange(inline[0], inline[1], inline[2]);
    else w.writeLatin1Buffer(this.store.sideValue(this.id));
  }

  childNames(): string[] {
    const out: string[] = [];
    for (let c = this.store.firstChild(this.id); c !== -1; c = this.store.nextSibling(c)) out.push(this.store.name(c));
    return out;
  }

  /**
   * The children as a jute vector<ustring>, encoded once per change. An entry is valid while
   * the node's (child creates, live children) pair is unchanged: every create bumps the first
   * and every delete lowers the second, so no write has to touch the cache.
   */
  childrenEncoded(): Buffer {
    const cache = this.store.childrenCache;
    const numChildren = this.numChildren;
    const childCreates = this.childCreates;
    const cached = cache.get(this.id);
    if (cached !== undefined && cached.childCreates === childCreates && cached.numChildren === numChildren) return cached.bytes;
    const w = new JuteWriter(16 + numChildren * 16);
    w.writeInt(numChildren);
    for (let c = this.store.firstChild(this.id); c !== -1; c = this.store.nextSibling(c)) this.store.writeName(c, w);
    const bytes = w.toBuffer();
    cache.delete(this.id);
    if (cache.size >= CHILDREN_CACHE_ENTRIES) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
    cache.set(this.id, { childCreates, numChildren, bytes });
    return bytes;
  }
}
