// Snapshot contents: the tree's nodes and the session table, jute-encoded. Pure: the
// replica shell decides when to write and spreads the encoding over several event-loop turns.
import { ACL, JuteReader, JuteWriter, JuteError } from '../../wire/index.js';
import type { SessionRecord } from './tree.js';
import { ZNode } from './znode.js';
import type { NodeKindValue } from './txn.js';

const SNAPSHOT_FORMAT = 1;

export function encodeSnapshotHeader(zxid: number, sessions: readonly SessionRecord[]): Buffer {
  const w = new JuteWriter(256);
  w.writeInt(SNAPSHOT_FORMAT);
  w.writeLong(BigInt(zxid));
  w.writeInt(sessions.length);
  for (const s of sessions) {
    w.writeLong(s.sessionId);
    w.writeInt(s.timeoutMs);
    w.writeBuffer(s.passwd);
  }
  return w.toBuffer();
}

/** Appends nodes[from, to) to w. */
export function encodeNodes(w: JuteWriter, nodes: ReadonlyArray<[string, ZNode]>, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const [path, n] = nodes[i] as [string, ZNode];
    w.writeUString(path);
    w.writeLatin1Buffer(n.dataBytes);
    w.writeInt(n.acl.length);
    for (const a of n.acl) ACL.write(w, a);
    w.writeLong(BigInt(n.czxid));
    w.writeLong(BigInt(n.mzxid));
    w.writeLong(BigInt(n.pzxid));
    w.writeLong(BigInt(n.ctime));
    w.writeLong(BigInt(n.mtime));
    w.writeInt(n.version);
    w.writeInt(n.childCreates);
    w.writeInt(n.aversion);
    w.writeLong(n.ephemeralOwner);
    w.writeInt(n.kind);
    w.writeLong(BigInt(n.ttlMs));
  }
}

/** The end marker: a null path. */
export function encodeSnapshotEnd(): Buffer {
  const w = new JuteWriter(8);
  w.writeUString(null);
  return w.toBuffer();
}

export interface DecodedSnapshot {
  zxid: number;
  sessions: SessionRecord[];
  nodes: Array<[string, ZNode]>;
}

function readKind(v: number): NodeKindValue {
  if (v === 0 || v === 1 || v === 2 || v === 3) return v;
  throw new JuteError('JUTE_BAD_VALUE', `bad node kind ${v} in snapshot`);
}

export function decodeSnapshot(buf: Buffer): DecodedSnapshot {
  const r = new JuteReader(buf, 0, buf.length, 0x7fffffff);
  const format = r.readInt();
  if (format !== SNAPSHOT_FORMAT) throw new JuteError('JUTE_BAD_VALUE', `snapshot format ${format} is not ${SNAPSHOT_FORMAT}`);
  const zxid = Number(r.readLong());
  const sessionCount = r.readVectorLength();
  const sessions: SessionRecord[] = [];
  for (let i = 0; i < sessionCount; i++) {
    sessions.push({ sessionId: r.readLong(), timeoutMs: r.readInt(), passwd: r.readBuffer() ?? Buffer.alloc(16) });
  }
  const nodes: Array<[string, ZNode]> = [];
  for (;;) {
    const path = r.readUString();
    if (path === null) break;
    const dataBytes = r.readBufferAsLatin1();
    const aclCount = r.readVectorLength();
    const acl: ACL[] = [];
    for (let i = 0; i < aclCount; i++) acl.push(ACL.read(r));
    const czxid = Number(r.readLong());
    const mzxid = Number(r.readLong());
    const pzxid = Number(r.readLong());
    const ctime = Number(r.readLong());
    const mtime = Number(r.readLong());
    const version = r.readInt();
    const childCreates = r.readInt();
    const aversion = r.readInt();
    const owner = r.readLong();
    const kind = readKind(r.readInt());
    const ttlMs = Number(r.readLong());
    const node = new ZNode(dataBytes, acl, czxid, ctime, kind, owner, ttlMs).restoreState({ mzxid, pzxid, mtime, version, childCreates, aversion });
    nodes.push([path, node]);
  }
  r.expectEnd('snapshot');
  return { zxid, sessions, nodes };
}
