// Prep (ZooKeeper's PrepRequestProcessor): turns a client write into a fully resolved txn,
// checked against the committed tree PLUS the changes of txns proposed but not yet applied
// (outstanding changes), so pipelined writes see each other. Checks run in ZooKeeper's order:
// the first failure decides the error code.
import { CreateMode, ErrorCode, OpCode, Perms } from '../../wire/index.js';
import type { ACL, CheckVersionRequest, CreateRequest, CreateTTLRequest, DeleteRequest, MultiOp, SetACLRequest, SetDataRequest } from '../../wire/index.js';
import { fixupACL, hasPermission } from './acl.js';
import type { AuthIds } from './acl.js';
import { invalidPathReason, parentOf, SYSTEM_PATHS } from './path.js';
import { NodeKind, TxnType } from './txn.js';
import type { NodeKindValue, Txn } from './txn.js';
import type { DataTree } from './tree.js';
import { dataToString } from './znode.js';

/** What prep needs to know of a node: the committed node or its outstanding change. */
interface NodeRecord {
  exists: boolean;
  acl: ACL[];
  version: number;
  aversion: number;
  childCreates: number;
  numChildren: number;
  ephemeralOwner: bigint;
  kind: NodeKindValue;
  /** zxid of the last txn that changed this record; dropped once that txn is applied. */
  zxid: number;
}

/**
 * A copy of r as changed by the txn at zxid, for the caller to adjust before it is shared.
 * Spelled out: an object spread here cost more than the rest of a create's prep.
 */
function nextRecord(r: NodeRecord, zxid: number): NodeRecord {
  return { exists: r.exists, acl: r.acl, version: r.version, aversion: r.aversion, childCreates: r.childCreates, numChildren: r.numChildren, ephemeralOwner: r.ephemeralOwner, kind: r.kind, zxid };
}

/** String.format("%010d", cversion): a negative counter (after overflow) keeps its sign. */
function sequenceSuffix(seq: number): string {
  return seq < 0 ? `-${String(-seq).padStart(9, '0')}` : String(seq).padStart(10, '0');
}

interface PendingChange {
  zxid: number;
  path: string;
}

export type WriteRequest =
  | { opcode: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL; req: CreateTTLRequest }
  | { opcode: typeof OpCode.delete; req: DeleteRequest }
  | { opcode: typeof OpCode.deleteContainer; req: { path: string } }
  | { opcode: typeof OpCode.setData; req: SetDataRequest }
  | { opcode: typeof OpCode.setACL; req: SetACLRequest }
  | { opcode: typeof OpCode.check; req: CheckVersionRequest }
  | { opcode: typeof OpCode.multi; ops: MultiOp[] }
  | { opcode: typeof OpCode.createSession; sessionId: bigint; timeoutMs: number; passwd: Buffer }
  | { opcode: typeof OpCode.closeSession };

export interface PrepOptions {
  extendedTypesEnabled: boolean;
  skipACL: boolean;
}

/** A client-visible failure: becomes an error txn (ZooKeeper logs those too, using a zxid). */
class PrepError extends Error {
  readonly err: number;
  constructor(err: number) {
    super(`prep error ${err}`);
    this.err = err;
  }
}

const TTL_MAX_MS = 2 ** 40 - 1;

export class Prep {
  private readonly tree: DataTree;
  private readonly opts: PrepOptions;
  private readonly outstanding = new Map<string, NodeRecord>();
  /** Every overlay change in zxid order, so applied() touches only what is done. */
  private changeOrder: PendingChange[] = [];
  private changeHead = 0;
  /** Sessions whose closeSession is proposed: no more ephemerals for them. */
  private readonly closing = new Set<bigint>();
  /** Undo log while a multi is being prepped (restored if any sub-op fails). */
  private undo: Array<[string, NodeRecord | undefined]> | null = null;

  constructor(tree: DataTree, opts: PrepOptions) {
    this.tree = tree;
    this.opts = opts;
  }

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  /** After txn zxid is applied the committed tree shows its effect: forget the overlay. */
  applied(zxid: number): void {
    // Changes are recorded in zxid order, so only the front of the queue can be done.
    const queue = this.changeOrder;
    while (this.changeHead < queue.length) {
      const change = queue[this.changeHead] as PendingChange;
      if (change.zxid > zxid) break;
      this.changeHead++;
      const rec = this.outstanding.get(change.path);
      if (rec !== undefined && rec.zxid <= zxid) this.outstanding.delete(change.path);
    }
    if (this.changeHead === queue.length) {
      this.changeOrder = [];
      this.changeHead = 0;
    } else if (this.changeHead > 4096) {
      this.changeOrder = queue.slice(this.changeHead);
      this.changeHead = 0;
    }
  }

  sessionClosed(sessionId: bigint): void {
    this.closing.delete(sessionId);
  }

  prepare(request: WriteRequest, sessionId: bigint, auth: AuthIds, zxid: number): Txn {
    try {
      return this.prepareOne(request, sessionId, auth, zxid);
    } catch (e) {
      if (e instanceof PrepError) return { type: TxnType.error, err: e.err, opcode: request.opcode };
      throw e;
    }
  }

  private prepareOne(request: WriteRequest, sessionId: bigint, auth: AuthIds, zxid: number): Txn {
    switch (request.opcode) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return this.prepCreate(request.opcode, request.req, request.req.ttl, sessionId, auth, zxid);
      case OpCode.delete:
        return this.prepDelete(request.req, auth, zxid);
      case OpCode.deleteContainer:
        return this.prepDeleteContainer(request.req.path, zxid);
      case OpCode.setData:
        return this.prepSetData(request.req, auth, zxid);
      case OpCode.setACL:
        return this.prepSetACL(request.req, auth, zxid);
      case OpCode.check:
        // A check outside multi is refused by ZooKeeper 3.8.5+ (ZOOKEEPER-4578 follow-up); in a multi it is fine.
        if (this.undo === null) throw new PrepError(ErrorCode.Unimplemented);
        return this.prepCheck(request.req, auth);
      case OpCode.multi:
        return this.prepMulti(request.ops, sessionId, auth, zxid);
      case OpCode.createSession:
        return { type: TxnType.createSession, sessionId: request.sessionId, timeoutMs: request.timeoutMs, passwd: request.passwd };
      case OpCode.closeSession:
        return this.prepCloseSession(sessionId, zxid);
    }
  }

  private record(path: string): NodeRecord | null {
    const pending = this.outstanding.get(path);
    if (pending !== undefined) return pending.exists ? pending : null;
    const node = this.tree.get(path);
    if (node === undefined) return null;
    return {
      exists: true,
      acl: node.acl,
      version: node.version,
      aversion: node.aversion,
      childCreates: node.childCreates,
      numChildren: node.numChildren,
      ephemeralOwner: node.ephemeralOwner,
      kind: node.kind,
      zxid: 0,
    };
  }

  /**
   * The record of `path` for the txn at zxid to change: r itself when this txn made it (an
   * earlier op of the same multi; a failed multi restores what came before), else a copy put
   * in the overlay. A multi of 10 ops under one parent kept 10 copies of the parent.
   */
  private changing(path: string, r: NodeRecord, zxid: number): NodeRecord {
    if (r.zxid === zxid) return r;
    const next = nextRecord(r, zxid);
    this.put(path, next);
    return next;
  }

  private put(path: string, rec: NodeRecord): void {
    if (this.undo !== null) this.undo.push([path, this.outstanding.get(path)]);
    this.outstanding.set(path, rec);
    this.changeOrder.push({ zxid: rec.zxid, path });
  }

  private check(acl: readonly ACL[], perm: number, auth: AuthIds): void {
    if (!this.opts.skipACL && !hasPermission(acl, perm, auth)) throw new PrepError(ErrorCode.NoAuth);
  }

  private validPath(path: string): void {
    if (invalidPathReason(path) !== null) throw new PrepError(ErrorCode.BadArguments);
  }

  /** `ttl` apart from the request: multi's create ops carry none (-1). */
  private prepCreate(opcode: number, req: CreateRequest, ttl: bigint, sessionId: bigint, auth: AuthIds, zxid: number): Txn {
    const flags = req.flags;
    if (!Number.isInteger(flags) || flags < 0 || flags > 6) throw new PrepError(ErrorCode.BadArguments);
    const ttlMode = flags === CreateMode.PERSISTENT_WITH_TTL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
    if (ttlMode && !this.opts.extendedTypesEnabled) throw new PrepError(ErrorCode.Unimplemented);
    // validateTTL: TTL modes need 0 < ttl <= 2^40-1; other modes must not carry one (op 21 does).
    if (ttlMode) {
      if (opcode !== OpCode.createTTL || ttl <= 0n || ttl > BigInt(TTL_MAX_MS)) throw new PrepError(ErrorCode.BadArguments);
    } else if (opcode === OpCode.createTTL) {
      throw new PrepError(ErrorCode.BadArguments);
    }
    const path = req.path;
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0')) throw new PrepError(ErrorCode.BadArguments);
    const acl = fixupACL(req.acl, auth);
    if (acl === null) throw new PrepError(ErrorCode.InvalidACL);
    const parentPath = lastSlash === 0 ? '/' : path.slice(0, lastSlash);
    const parent = this.record(parentPath);
    if (parent === null) throw new PrepError(ErrorCode.NoNode);
    this.check(parent.acl, Perms.CREATE, auth);
    const sequential = flags === CreateMode.PERSISTENT_SEQUENTIAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
    const fullPath = sequential ? path + sequenceSuffix(parent.childCreates) : path;
    this.validPath(fullPath);
    if (this.record(fullPath) !== null) throw new PrepError(ErrorCode.NodeExists);
    if (parent.kind === NodeKind.ephemeral) throw new PrepError(ErrorCode.NoChildrenForEphemerals);
    const kind = this.kindOf(opcode, flags);
    if (kind === NodeKind.ephemeral && (this.closing.has(sessionId) || !this.tree.sessions.has(sessionId))) {
      throw new PrepError(ErrorCode.SessionExpired);
    }
    const owner = kind === NodeKind.ephemeral ? sessionId : 0n;
    const parentAfter = this.changing(parentPath, parent, zxid);
    parentAfter.childCreates++;
    parentAfter.numChildren++;
    this.put(fullPath, {
      exists: true,
      acl,
      version: 0,
      aversion: 0,
      childCreates: 0,
      numChildren: 0,
      ephemeralOwner: owner,
      kind,
      zxid,
    });
    return {
      type: TxnType.create,
      opcode,
      path: fullPath,
      data: dataToString(req.data),
      acl,
      kind,
      ephemeralOwner: owner,
      ttlMs: kind === NodeKind.ttl ? Number(ttl) : 0,
    };
  }

  /** The opcode decides containers (19) and TTL (21); flags decide ephemerality otherwise. */
  private kindOf(opcode: number, flags: number): NodeKindValue {
    if (opcode === OpCode.createContainer) return NodeKind.container;
    if (opcode === OpCode.createTTL) return NodeKind.ttl;
    if (flags === CreateMode.EPHEMERAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL) return NodeKind.ephemeral;
    return NodeKind.persistent;
  }

  private removeNode(path: string, node: NodeRecord, parentPath: string, parent: NodeRecord, zxid: number): void {
    this.changing(parentPath, parent, zxid).numChildren--;
    this.changing(path, node, zxid).exists = false;
  }

  private prepDelete(req: DeleteRequest, auth: AuthIds, zxid: number): Txn {
    const path = req.path;
    if (path.lastIndexOf('/') === -1 || path.includes('\0') || SYSTEM_PATHS.has(path)) throw new PrepError(ErrorCode.BadArguments);
    const parentPath = parentOf(path);
    const parent = this.record(parentPath);
    if (parent === null) throw new PrepError(ErrorCode.NoNode);
    // ZooKeeper checks DELETE on the parent before it looks at the node itself.
    this.check(parent.acl, Perms.DELETE, auth);
    const node = this.record(path);
    if (node === null) throw new PrepError(ErrorCode.NoNode);
    if (req.version !== -1 && req.version !== node.version) throw new PrepError(ErrorCode.BadVersion);
    if (node.numChildren > 0) throw new PrepError(ErrorCode.NotEmpty);
    this.removeNode(path, node, parentPath, parent, zxid);
    return { type: TxnType.delete, path };
  }

  private prepDeleteContainer(path: string, zxid: number): Txn {
    const node = this.record(path);
    if (node === null) throw new PrepError(ErrorCode.NoNode);
    if (node.kind !== NodeKind.container && node.kind !== NodeKind.ttl) throw new PrepError(ErrorCode.BadVersion);
    if (node.numChildren > 0) throw new PrepError(ErrorCode.NotEmpty);
    const parentPath = parentOf(path);
    const parent = this.record(parentPath);
    if (parent === null) throw new PrepError(ErrorCode.NoNode);
    this.removeNode(path, node, parentPath, parent, zxid);
    return { type: TxnType.deleteContainer, path };
  }

  private prepSetData(req: SetDataRequest, auth: AuthIds, zxid: number): Txn {
    this.validPath(req.path);
    const node = this.record(req.path);
    if (node === null) throw new PrepError(ErrorCode.NoNode);
    this.check(node.acl, Perms.WRITE, auth);
    if (req.version !== -1 && req.version !== node.version) throw new PrepError(ErrorCode.BadVersion);
    this.changing(req.path, node, zxid).version++;
    return { type: TxnType.setData, path: req.path, data: dataToString(req.data) };
  }

  private prepSetACL(req: SetACLRequest, auth: AuthIds, zxid: number): Txn {
    this.validPath(req.path);
    const acl = fixupACL(req.acl, auth);
    if (acl === null) throw new PrepError(ErrorCode.InvalidACL);
    const node = this.record(req.path);
    if (node === null) throw new PrepError(ErrorCode.NoNode);
    this.check(node.acl, Perms.ADMIN, auth);
    if (req.version !== -1 && req.version !== node.aversion) throw new PrepError(ErrorCode.BadVersion);
    const after = this.changing(req.path, node, zxid);
    after.acl = acl;
    after.aversion++;
    return { type: TxnType.setACL, path: req.path, acl };
  }

  private prepCheck(req: CheckVersionRequest, auth: AuthIds): Txn {
    this.validPath(req.path);
    const node = this.record(req.path);
    if (node === null) throw new PrepError(ErrorCode.NoNode);
    this.check(node.acl, Perms.READ, auth);
    if (req.version !== -1 && req.version !== node.version) throw new PrepError(ErrorCode.BadVersion);
    return { type: TxnType.check, path: req.path };
  }

  private prepMulti(ops: readonly MultiOp[], sessionId: bigint, auth: AuthIds, zxid: number): Txn {
    this.undo = [];
    const txns: Txn[] = [];
    let failedAt = -1;
    let failedErr: number = ErrorCode.OK;
    try {
      for (const [i, op] of ops.entries()) {
        const txn = this.prepSubOp(op, sessionId, auth, zxid);
        txns.push(txn);
        if (txn.type === TxnType.error) {
          failedAt = i;
          failedErr = txn.err;
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof PrepError)) throw e;
      failedAt = txns.length;
      failedErr = e.err;
    }
    const undo = this.undo;
    this.undo = null;
    if (failedAt === -1) return { type: TxnType.multi, ops: txns };
    // All or nothing: put the overlay back as it was before this multi.
    for (let i = undo.length - 1; i >= 0; i--) {
      const [path, prev] = undo[i] as [string, NodeRecord | undefined];
      if (prev === undefined) this.outstanding.delete(path);
      else this.outstanding.set(path, prev);
    }
    const results: Txn[] = ops.map((op, i) => ({
      type: TxnType.error,
      err: i < failedAt ? ErrorCode.OK : i === failedAt ? failedErr : ErrorCode.RuntimeInconsistency,
      opcode: op.type,
    }));
    return { type: TxnType.multi, ops: results };
  }

  /** One op of a write multi, prepped straight from its record (no request wrapper per op). */
  private prepSubOp(op: MultiOp, sessionId: bigint, auth: AuthIds, zxid: number): Txn {
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        return this.prepCreate(op.type, op.req, -1n, sessionId, auth, zxid);
      case OpCode.createTTL:
        return this.prepCreate(op.type, op.req, op.req.ttl, sessionId, auth, zxid);
      case OpCode.delete:
        return this.prepDelete(op.req, auth, zxid);
      case OpCode.setData:
        return this.prepSetData(op.req, auth, zxid);
      case OpCode.check:
        return this.prepCheck(op.req, auth);
      case OpCode.getData:
      case OpCode.getChildren:
        // Read ops inside a write multi: ZooKeeper refuses the whole request.
        throw new PrepError(ErrorCode.MarshallingError);
    }
  }

  private prepCloseSession(sessionId: bigint, zxid: number): Txn {
    this.closing.add(sessionId);
    // Every ephemeral the session owns, committed or still outstanding, goes with it.
    const owned = new Set(this.tree.ephemerals.get(sessionId) ?? []);
    for (const [path, rec] of this.outstanding) {
      if (rec.kind === NodeKind.ephemeral && rec.ephemeralOwner === sessionId) {
        if (rec.exists) owned.add(path);
        else owned.delete(path);
      }
    }
    for (const path of owned) {
      const node = this.record(path);
      const parentPath = parentOf(path);
      const parent = this.record(parentPath);
      if (node !== null && parent !== null) this.removeNode(path, node, parentPath, parent, zxid);
    }
    return { type: TxnType.closeSession, sessionId };
  }
}
