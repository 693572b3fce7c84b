// One znode, laid out for a million of them: a fixed-shape class (in-object fields), data kept
// as a latin1 string (about 16 bytes of overhead where a Buffer costs ~90), the children set
// made only when the first child arrives, and ACL lists shared between nodes.
import { JuteWriter } from '../../wire/index.js';
import type { ACL } from '../../wire/index.js';
import type { NodeKindValue } from './txn.js';

/** Shared so that non-ephemeral nodes do not each hold their own 0n. */
export const NO_OWNER = 0n;

export function dataToString(data: Buffer | null): string | null {
  return data === null ? null : data.toString('latin1');
}

export class ZNode {
  /** The node's bytes, one char per byte (latin1); null when the client stored null. */
  dataBytes: string | null;
  acl: ACL[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** Child creates ever made (ZooKeeper's persisted cversion); sequence suffixes come from it. */
  childCreates: number;
  aversion: number;
  ephemeralOwner: bigint;
  kind: NodeKindValue;
  ttlMs: number;
  /** Child names; null until the node has had a child. */
  children: Set<string> | null;
  /** getChildren's encoded name vector, kept until the children change. */
  childrenWire: Buffer | null;
  /** Snapshot generation that owns this object (copy-on-write while a snapshot is written). */
  gen: number;

  constructor(dataBytes: string | null, acl: ACL[], zxid: number, timeMs: number, kind: NodeKindValue, owner: bigint, ttlMs: number, gen: number) {
    this.dataBytes = dataBytes;
    this.acl = acl;
    this.czxid = zxid;
    this.mzxid = zxid;
    this.pzxid = zxid;
    this.ctime = timeMs;
    this.mtime = timeMs;
    this.version = 0;
    this.childCreates = 0;
    this.aversion = 0;
    this.ephemeralOwner = owner === 0n ? NO_OWNER : owner;
    this.kind = kind;
    this.ttlMs = ttlMs;
    this.children = null;
    this.childrenWire = null;
    this.gen = gen;
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

  addChild(name: string): void {
    if (this.children === null) this.children = new Set();
    this.children.add(name);
    this.childrenWire = null;
  }

  removeChild(name: string): void {
    this.children?.delete(name);
    this.childrenWire = null;
  }

  childNames(): string[] {
    return this.children === null ? [] : [...this.children];
  }

  /** The children as a jute vector<ustring>, encoded once per change. */
  childrenEncoded(): Buffer {
    if (this.childrenWire === null) {
      const w = new JuteWriter(16 + this.numChildren * 16);
      w.writeInt(this.numChildren);
      if (this.children !== null) for (const c of this.children) w.writeUString(c);
      this.childrenWire = w.toBuffer();
    }
    return this.childrenWire;
  }

  /** A copy for copy-on-write: the children set is shared (snapshots do not read it). */
  clone(gen: number): ZNode {
    const c = new ZNode(this.dataBytes, this.acl, this.czxid, this.ctime, this.kind, this.ephemeralOwner, this.ttlMs, gen);
    c.mzxid = this.mzxid;
    c.pzxid = this.pzxid;
    c.mtime = this.mtime;
    c.version = this.version;
    c.childCreates = this.childCreates;
    c.aversion = this.aversion;
    c.children = this.children;
    c.childrenWire = this.childrenWire;
    return c;
  }
}
