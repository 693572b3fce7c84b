// Transactions: a client request resolved by prep into exactly what every replica applies.
// Times, zxids, versions, sequence suffixes and session passwords are decided once, here,
// so apply is a pure function of (tree, txn). Encoded with jute into the write-ahead log.
import { ACL, JuteReader, JuteWriter, JuteError } from '../../wire/index.js';
import { sameAcl } from './acl.js';

export const TxnType = {
  createSession: 1,
  closeSession: 2,
  create: 3,
  delete: 4,
  setData: 5,
  setACL: 6,
  check: 7,
  multi: 8,
  error: 9,
  deleteContainer: 10,
} as const;

/** What kind of node a create makes; ZooKeeper encodes this in ephemeralOwner. */
export const NodeKind = { persistent: 0, ephemeral: 1, container: 2, ttl: 3 } as const;
export type NodeKindValue = (typeof NodeKind)[keyof typeof NodeKind];

export type Txn =
  | { type: typeof TxnType.createSession; sessionId: bigint; timeoutMs: number; passwd: Buffer }
  | { type: typeof TxnType.closeSession; sessionId: bigint }
  | {
      type: typeof TxnType.create;
      /** Client opcode (1, 15, 19, 21) so replies and multi results echo the request's form. */
      opcode: number;
      path: string;
      /** The node's bytes as latin1 (one char per byte), as the tree keeps them. */
      data: string | null;
      acl: ACL[];
      kind: NodeKindValue;
      ephemeralOwner: bigint;
      ttlMs: number;
    }
  | { type: typeof TxnType.delete; path: string }
  | { type: typeof TxnType.deleteContainer; path: string }
  | { type: typeof TxnType.setData; path: string; data: string | null }
  | { type: typeof TxnType.setACL; path: string; acl: ACL[] }
  | { type: typeof TxnType.check; path: string }
  | { type: typeof TxnType.multi; ops: Txn[] }
  | { type: typeof TxnType.error; err: number; opcode: number };

export interface TxnHeader {
  sessionId: bigint;
  cxid: number;
  zxid: number;
  /** Leader wall-clock time, ms: becomes ctime/mtime. */
  timeMs: number;
}

export interface TxnEntry {
  header: TxnHeader;
  txn: Txn;
}

/** The last ACL list encoded and its bytes: most creates carry the same ACL (see readAcl). */
let lastWrittenAcl: readonly ACL[] = [];
let lastWrittenAclBytes: Buffer | null = null;

function writeAcl(w: JuteWriter, acl: readonly ACL[]): void {
  if (lastWrittenAclBytes !== null && sameAcl(acl, lastWrittenAcl)) {
    w.writeRaw(lastWrittenAclBytes);
    return;
  }
  const start = w.length;
  w.writeInt(acl.length);
  for (const a of acl) ACL.write(w, a);
  lastWrittenAclBytes = Buffer.from(w.view().subarray(start));
  // A copy: the bytes must keep matching the list they are compared against.
  lastWrittenAcl = acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }));
}

/**
 * The last ACL list decoded and its bytes: nearly every create in a log carries the same ACL,
 * so replay compares bytes instead of decoding two strings per entry. The list is shared and
 * never mutated (the tree interns ACL lists anyway).
 */
let lastAclBytes: Buffer | null = null;
let lastAcl: ACL[] = [];

function readAcl(r: JuteReader): ACL[] {
  if (lastAclBytes !== null && r.skipIfNext(lastAclBytes)) return lastAcl;
  const start = r.offset;
  const n = r.readVectorLength();
  const out: ACL[] = [];
  for (let i = 0; i < n; i++) out.push(ACL.read(r));
  lastAclBytes = r.copySince(start);
  lastAcl = out;
  return out;
}

function writeTxn(w: JuteWriter, t: Txn): void {
  w.writeInt(t.type);
  switch (t.type) {
    case TxnType.createSession:
      w.writeLong(t.sessionId);
      w.writeInt(t.timeoutMs);
      w.writeBuffer(t.passwd);
      return;
    case TxnType.closeSession:
      w.writeLong(t.sessionId);
      return;
    case TxnType.create:
      w.writeInt(t.opcode);
      w.writeUString(t.path);
      w.writeLatin1Buffer(t.data);
      writeAcl(w, t.acl);
      w.writeInt(t.kind);
      w.writeLong(t.ephemeralOwner);
      w.writeLongNumber(t.ttlMs);
      return;
    case TxnType.delete:
    case TxnType.deleteContainer:
    case TxnType.check:
      w.writeUString(t.path);
      return;
    case TxnType.setData:
      w.writeUString(t.path);
      w.writeLatin1Buffer(t.data);
      return;
    case TxnType.setACL:
      w.writeUString(t.path);
      writeAcl(w, t.acl);
      return;
    case TxnType.multi:
      w.writeInt(t.ops.length);
      for (const op of t.ops) writeTxn(w, op);
      return;
    case TxnType.error:
      w.writeInt(t.err);
      w.writeInt(t.opcode);
      return;
  }
}

function readKind(v: number): NodeKindValue {
  if (v === 0 || v === 1 || v === 2 || v === 3) return v;
  throw new JuteError('JUTE_BAD_VALUE', `bad node kind ${v} in txn`);
}

function readTxn(r: JuteReader): Txn {
  const type = r.readInt();
  switch (type) {
    case TxnType.createSession:
      return { type, sessionId: r.readLong(), timeoutMs: r.readInt(), passwd: r.readBuffer() ?? Buffer.alloc(16) };
    case TxnType.closeSession:
      return { type, sessionId: r.readLong() };
    case TxnType.create:
      return {
        type,
        opcode: r.readInt(),
        path: r.readUString() ?? '',
        data: r.readBufferAsLatin1(),
        acl: readAcl(r),
        kind: readKind(r.readInt()),
        ephemeralOwner: r.readLong(),
        ttlMs: Number(r.readLong()),
      };
    case TxnType.delete:
    case TxnType.deleteContainer:
    case TxnType.check:
      return { type, path: r.readUString() ?? '' };
    case TxnType.setData:
      return { type, path: r.readUString() ?? '', data: r.readBufferAsLatin1() };
    case TxnType.setACL:
      return { type, path: r.readUString() ?? '', acl: readAcl(r) };
    case TxnType.multi: {
      const n = r.readVectorLength();
      const ops: Txn[] = [];
      for (let i = 0; i < n; i++) ops.push(readTxn(r));
      return { type, ops };
    }
    case TxnType.error:
      return { type, err: r.readInt(), opcode: r.readInt() };
    default:
      throw new JuteError('JUTE_BAD_VALUE', `unknown txn type ${type}`);
  }
}

/** A size guess that avoids regrowing the writer for the common txns. */
function sizeHint(t: Txn): number {
  switch (t.type) {
    case TxnType.create:
    case TxnType.setData:
      return 160 + t.path.length * 3 + (t.data?.length ?? 0);
    case TxnType.multi:
      return 64 + t.ops.reduce((n, op) => n + sizeHint(op), 0);
    default:
      return 128;
  }
}

export function encodeTxnEntry(e: TxnEntry): Buffer {
  const w = new JuteWriter(sizeHint(e.txn));
  w.writeLong(e.header.sessionId);
  w.writeInt(e.header.cxid);
  w.writeLongNumber(e.header.zxid);
  w.writeLongNumber(e.header.timeMs);
  writeTxn(w, e.txn);
  return w.finish();
}

export function decodeTxnEntry(buf: Buffer): TxnEntry {
  const r = new JuteReader(buf, 0, buf.length, 0x7fffffff);
  const header: TxnHeader = {
    sessionId: r.readLong(),
    cxid: r.readInt(),
    zxid: Number(r.readLong()),
    timeMs: Number(r.readLong()),
  };
  const txn = readTxn(r);
  r.expectEnd('txn');
  return { header, txn };
}
