// Snapshot contents: the tree's nodes and the session table, jute-encoded. Pure: the
// replica shell decides when to write and spreads the encoding over several event-loop turns.
import { ACL, JuteReader, JuteWriter, JuteError } from '../../wire/index.js';
import type { LoadedNode, SessionRecord } from './tree.js';
import type { FrozenView } from './node-store.js';
import { ephemeralOwnerOf, ttlOf } from './znode.js';
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

/** Appends up to max nodes of the frozen tree to w; returns how many (0 once all are out). */
export function encodeNodes(w: JuteWriter, view: FrozenView, max: number): number {
  let written = 0;
  for (let n = written < max ? view.next() : null; n !== null; n = ++written < max ? view.next() : null) {
    w.writeUString(n.path);
    if (n.inline !== null) w.writeBufferRange(n.inline[0], n.inline[1], n.inline[2]);
    else w.writeLatin1Buffer(n.side);
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
    w.writeLong(ephemeralOwnerOf(n.kind, n.owner));
    w.writeInt(n.kind);
    w.writeLong(BigInt(ttlOf(n.kind, n.owner)));
  }
  return written;
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
  /** Read while iterated (once): nodes are not all held at the same time. */
  nodes: Iterable<LoadedNode>;
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
  return { zxid, sessions, nodes: readNodes(r) };
}

function* readNodes(r: JuteReader): Generator<LoadedNode> {
  for (;;) {
    const path = r.readUString();
    if (path === null) break;
    const data = r.readBufferAsLatin1();
    const aclCount = r.readVectorLength();
    const acl: ACL[] = [];
    for (let i = 0; i < aclCount; i++) acl.push(ACL.read(r));
    yield {
      path,
      data,
      acl,
      czxid: Number(r.readLong()),
      mzxid: Number(r.readLong()),
      pzxid: Number(r.readLong()),
      ctime: Number(r.readLong()),
      mtime: Number(r.readLong()),
      version: r.readInt(),
      childCreates: r.readInt(),
      aversion: r.readInt(),
      ephemeralOwner: r.readLong(),
      kind: readKind(r.readInt()),
      ttlMs: Number(r.readLong()),
    };
  }
  r.expectEnd('snapshot');
}
