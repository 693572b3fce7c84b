// Read-side operations, answered from the local tree (reads never go through the log).
// Each returns an error code or a writer for the response record.
import {
  AddWatchMode,
  AddWatchRequest,
  CheckWatchesRequest,
  ClientInfo,
  ErrorCode,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildrenRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  OpCode,
  Perms,
  RemoveWatchesRequest,
  writeStatNumbers,
  SyncRequest,
  WatcherType,
  readMultiRequest,
  writeMultiResponse,
} from '../../../wire/index.js';
import type { ACL, JuteReader, JuteWriter, MultiResultOut } from '../../../wire/index.js';
import { hasPermission, idsInZooKeeperOrder, userNameOf } from '../../core/acl.js';
import type { AuthIds } from '../../core/acl.js';
import { statOf } from '../../core/tree.js';
import type { DataTree, ZNode } from '../../core/tree.js';
import type { Watcher, WatchManager } from '../../core/watches.js';

export interface ReadContext {
  readonly tree: DataTree;
  readonly watches: WatchManager;
  readonly watcher: Watcher;
  readonly auth: AuthIds;
  readonly sessionId: bigint;
  readonly skipACL: boolean;
  /** Paths this connection watches, so a disconnect can drop them cheaply. */
  readonly watchedPaths: Set<string>;
}

/**
 * A reply body around a large value held as a latin1 string: head, the value itself, tail. The
 * value goes to the socket as the string, so no reply buffer of its size is allocated per read
 * (per-read buffers of hundreds of KiB made V8 run full collections for external memory).
 */
export interface SplitBody {
  head: (w: JuteWriter) => void;
  middle: string;
  tail: (w: JuteWriter) => void;
}

/** sizeHint: the body's size when known and large, so the reply buffer is allocated once. */
export type ReadResult = { err: number; write?: (w: JuteWriter) => void; sizeHint?: number; split?: SplitBody };

/** Values from this size on are sent as a split body. */
const SPLIT_VALUE_BYTES = 64 * 1024;

const fail = (err: number): ReadResult => ({ err });
const ok = (write?: (w: JuteWriter) => void): ReadResult => (write === undefined ? { err: 0 } : { err: 0, write });

function canRead(ctx: ReadContext, node: ZNode): boolean {
  return ctx.skipACL || hasPermission(node.acl, Perms.READ, ctx.auth);
}

/** ZooKeeper's DataTree also keeps the root under "", so reads of "" see the root. */
function nodeAt(ctx: ReadContext, path: string): ZNode | undefined {
  return ctx.tree.get(path === '' ? '/' : path);
}

function childrenOf(node: ZNode): string[] {
  return node.childNames();
}

export function exists(ctx: ReadContext, r: JuteReader): ReadResult {
  const req = ExistsRequest.read(r);
  // FinalRequestProcessor rejects a NUL in an exists path outright.
  if (req.path.includes('\0')) return fail(ErrorCode.BadArguments);
  const node = nodeAt(ctx, req.path);
  // ZOOKEEPER-2590 (3.8.4+): exists needs READ on an existing node.
  if (node !== undefined && !canRead(ctx, node)) return fail(ErrorCode.NoAuth);
  if (req.watch) {
    // An exist watch is registered even when the node is missing.
    ctx.watches.addData(req.path, ctx.watcher);
    ctx.watchedPaths.add(req.path);
  }
  if (node === undefined) return fail(ErrorCode.NoNode);
  const stat = statOf(node);
  return ok((w) => writeStatNumbers(w, stat));
}

export function getData(ctx: ReadContext, r: JuteReader): ReadResult {
  const req = GetDataRequest.read(r);
  const node = nodeAt(ctx, req.path);
  if (node === undefined) return fail(ErrorCode.NoNode);
  if (!canRead(ctx, node)) return fail(ErrorCode.NoAuth);
  if (req.watch) {
    ctx.watches.addData(req.path, ctx.watcher);
    ctx.watchedPaths.add(req.path);
  }
  const stat = statOf(node);
  const large = node.largeValue;
  if (large !== null && large.length >= SPLIT_VALUE_BYTES) {
    return { err: 0, split: { head: (w) => w.writeInt(large.length), middle: large, tail: (w) => writeStatNumbers(w, stat) } };
  }
  // The reply is encoded before anything else runs, so the node's bytes are still these.
  return {
    err: 0,
    sizeHint: 4 + stat.dataLength + 68,
    write: (w) => {
      node.writeData(w);
      writeStatNumbers(w, stat);
    },
  };
}

function children(ctx: ReadContext, r: JuteReader, withStat: boolean): ReadResult {
  const req = GetChildrenRequest.read(r);
  const node = nodeAt(ctx, req.path);
  if (node === undefined) return fail(ErrorCode.NoNode);
  if (!canRead(ctx, node)) return fail(ErrorCode.NoAuth);
  if (req.watch) {
    ctx.watches.addChild(req.path, ctx.watcher);
    ctx.watchedPaths.add(req.path);
  }
  const names = node.childrenEncoded();
  const stat = withStat ? statOf(node) : null;
  return {
    err: 0,
    sizeHint: names.length + 68,
    write: (w) => {
      w.writeRaw(names);
      if (stat !== null) writeStatNumbers(w, stat);
    },
  };
}

export const getChildren = (ctx: ReadContext, r: JuteReader): ReadResult => children(ctx, r, false);
export const getChildren2 = (ctx: ReadContext, r: JuteReader): ReadResult => children(ctx, r, true);

export function getACL(ctx: ReadContext, r: JuteReader): ReadResult {
  const req = GetACLRequest.read(r);
  const node = nodeAt(ctx, req.path);
  if (node === undefined) return fail(ErrorCode.NoNode);
  const admin = ctx.skipACL || hasPermission(node.acl, Perms.ADMIN, ctx.auth);
  if (!admin && !canRead(ctx, node)) return fail(ErrorCode.NoAuth);
  // Without ADMIN, digest hashes are masked so they cannot be brute-forced offline.
  const acl: ACL[] = admin
    ? node.acl
    : node.acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: `${a.id.id.split(':')[0] ?? ''}:x` } } : a));
  const stat = statOf(node);
  return ok((w) => {
    w.writeInt(acl.length);
    for (const a of acl) {
      w.writeInt(a.perms);
      w.writeUString(a.id.scheme);
      w.writeUString(a.id.id);
    }
    writeStatNumbers(w, stat);
  });
}

export function getAllChildrenNumber(ctx: ReadContext, r: JuteReader): ReadResult {
  const req = GetAllChildrenNumberRequest.read(r);
  const node = nodeAt(ctx, req.path);
  if (node === undefined) return fail(ErrorCode.NoNode);
  if (!canRead(ctx, node)) return fail(ErrorCode.NoAuth);
  const n = ctx.tree.countDescendants(req.path === '' ? '/' : req.path);
  return ok((w) => w.writeInt(n));
}

export function getEphemerals(ctx: ReadContext, r: JuteReader): ReadResult {
  const req = GetEphemeralsRequest.read(r);
  const prefix = req.prefixPath;
  const owned = [...(ctx.tree.ephemerals.get(ctx.sessionId) ?? [])];
  const matching = prefix === '' || prefix === '/' ? owned : owned.filter((p) => p.startsWith(prefix));
  return ok((w) => {
    w.writeInt(matching.length);
    for (const p of matching) w.writeUString(p);
  });
}

export function whoAmI(ctx: ReadContext): ReadResult {
  const ids = idsInZooKeeperOrder(ctx.auth.ids);
  return ok((w) => {
    w.writeInt(ids.length);
    for (const id of ids) ClientInfo.write(w, { authScheme: id.scheme, user: userNameOf(id) });
  });
}

export function sync(_ctx: ReadContext, r: JuteReader): ReadResult {
  // A single server is always caught up with itself: answer in order, echoing the path.
  const req = SyncRequest.read(r);
  return ok((w) => w.writeUString(req.path));
}

export function addWatch(ctx: ReadContext, r: JuteReader): ReadResult {
  const req = AddWatchRequest.read(r);
  if (req.mode !== AddWatchMode.Persistent && req.mode !== AddWatchMode.PersistentRecursive) return fail(ErrorCode.BadArguments);
  ctx.watches.addPersistent(req.path, ctx.watcher, req.mode === AddWatchMode.PersistentRecursive);
  ctx.watchedPaths.add(req.path);
  // The reply body is an ErrorResponse{0}: 4 bytes (LIVE).
  return ok((w) => w.writeInt(0));
}

function watchRemoval(ctx: ReadContext, r: JuteReader, dryRun: boolean): ReadResult {
  const req = dryRun ? CheckWatchesRequest.read(r) : RemoveWatchesRequest.read(r);
  // 3.8 knows watcher types 1..3 only; 4 and 5 arrived in 3.9 (LIVE: MarshallingError).
  if (req.type !== WatcherType.Children && req.type !== WatcherType.Data && req.type !== WatcherType.Any) {
    return fail(ErrorCode.MarshallingError);
  }
  const found = ctx.watches.removeWatches(req.path, req.type, ctx.watcher, dryRun);
  return found ? ok() : fail(ErrorCode.NoWatcher);
}

export const checkWatches = (ctx: ReadContext, r: JuteReader): ReadResult => watchRemoval(ctx, r, true);
export const removeWatches = (ctx: ReadContext, r: JuteReader): ReadResult => watchRemoval(ctx, r, false);

/** multiRead: independent getData/getChildren, each with its own result; watches ignored. */
export function multiRead(ctx: ReadContext, r: JuteReader): ReadResult {
  const ops = readMultiRequest(r);
  const results: MultiResultOut[] = [];
  for (const op of ops) {
    if (op.type !== OpCode.getData && op.type !== OpCode.getChildren) return fail(ErrorCode.MarshallingError);
    const node = nodeAt(ctx, op.req.path);
    if (node === undefined) {
      results.push({ type: OpCode.error, err: ErrorCode.NoNode });
    } else if (!canRead(ctx, node)) {
      results.push({ type: OpCode.error, err: ErrorCode.NoAuth });
    } else if (op.type === OpCode.getData) {
      results.push({ type: OpCode.getData, data: node.data, stat: statOf(node) });
    } else {
      results.push({ type: OpCode.getChildren, children: childrenOf(node) });
    }
  }
  return ok((w) => writeMultiResponse(w, results));
}
