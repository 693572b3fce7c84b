// The znode tree (nodes in a compact NodeStore, looked up by path) plus the replicated
// session table. apply() is a pure function of (tree, txn): every replica that applies the
// same log gets the same tree, the same results and the same watch triggers.
import { EventType, OpCode } from '../../wire/index.js';
import type { ACL, StatNumbers } from '../../wire/index.js';
import { NodeKind, TxnType } from './txn.js';
import type { NodeKindValue, Txn, TxnEntry, TxnHeader } from './txn.js';
import { parentOf } from './path.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl.js';
import { F_CTIME, F_CZXID, F_MTIME, F_MZXID, F_PZXID, I_AVERSION, I_CHILD_CREATES, I_VERSION, NONE, NodeStore, ROOT, TreeInvariantError } from './node-store.js';
import type { ArenaOptions, FrozenView, NodeFields } from './node-store.js';
import { ZNode, ownerFor } from './znode.js';

export { ZNode, TreeInvariantError };

/** A node as a snapshot holds it. */
export interface LoadedNode extends NodeFields {
  data: string | null;
  ephemeralOwner: bigint;
  ttlMs: number;
}

export interface SessionRecord {
  sessionId: bigint;
  timeoutMs: number;
  passwd: Buffer;
}

export interface WatchTrigger {
  path: string;
  type: number;
  /** The node's ACL at the event (before a delete): watchers without READ hear nothing (3.8.4+). */
  acl: readonly ACL[];
}

export type OpResult =
  /** stat is null for a plain create (opcode 1), whose reply carries only the path. */
  | { kind: 'create'; opcode: number; path: string; stat: StatNumbers | null }
  | { kind: 'setData'; stat: StatNumbers }
  | { kind: 'setACL'; stat: StatNumbers }
  | { kind: 'delete' }
  | { kind: 'check' }
  | { kind: 'error'; err: number }
  | { kind: 'session' }
  | { kind: 'multi'; results: OpResult[] };

export interface ApplyOutcome {
  zxid: number;
  result: OpResult;
  triggers: WatchTrigger[];
}

/** What replay() returns for every op: nobody reads it. */
const REPLAYED: OpResult = { kind: 'check' };

export function statOf(node: ZNode): StatNumbers {
  const numChildren = node.numChildren;
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    // ZooKeeper counts child creates and deletes: 2·creates − live children.
    cversion: 2 * node.childCreates - numChildren,
    aversion: node.aversion,
    // Containers and TTL nodes are marked inside ZooKeeper's ephemeralOwner but report 0.
    ephemeralOwner: node.visibleOwner,
    dataLength: node.dataLength,
    numChildren,
    pzxid: node.pzxid,
  };
}

export class DataTree {
  readonly store: NodeStore;
  readonly sessions = new Map<bigint, SessionRecord>();
  /** sessionId → ephemeral paths it owns. */
  readonly ephemerals = new Map<bigint, Set<string>>();
  /** Container and TTL nodes, for the reaper. */
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  lastZxid = 0;
  /** Sum of path and data bytes (mntr zk_approximate_data_size). */
  approximateDataSize = 0;

  /** arena: see NodeStore (tests make it compact often). */
  constructor(arena: ArenaOptions = {}) {
    this.store = new NodeStore([...OPEN_ACL_UNSAFE], arena);
    this.addSystemNodes();
  }

  private addSystemNodes(): void {
    this.addSystemNode('/zookeeper', [...OPEN_ACL_UNSAFE]);
    this.addSystemNode('/zookeeper/quota', [...OPEN_ACL_UNSAFE]);
    const config = this.addSystemNode('/zookeeper/config', [...READ_ACL_UNSAFE]);
    // ZooKeeper 3.8 creates /zookeeper/config with aversion -1 (LIVE).
    this.store.setCounter(config, I_AVERSION, -1);
  }

  /**
   * An ensemble member's /zookeeper/config: the membership as ZooKeeper writes it when a
   * member starts (a local setData with version -1 at zxid 0, not a transaction).
   */
  setEnsembleConfig(text: string, timeMs: number): void {
    const id = this.idOf('/zookeeper/config');
    this.approximateDataSize += text.length - this.store.dataLength(id);
    this.store.setData(id, text);
    this.store.setCounter(id, I_VERSION, -1);
    this.store.setField(id, F_MZXID, 0);
    this.store.setField(id, F_MTIME, timeMs);
  }

  private addSystemNode(path: string, acl: ACL[]): number {
    const parent = this.idOf(parentOf(path));
    const id = this.store.addChild(parent, path, path.lastIndexOf('/') + 1, path.length, '', acl, NodeKind.persistent, 0n, 0, 0);
    this.approximateDataSize += path.length;
    return id;
  }

  get(path: string): ZNode | undefined {
    const id = this.store.lookup(path);
    return id === NONE ? undefined : new ZNode(this.store, id);
  }

  private idOf(path: string): number {
    const id = this.store.lookup(path);
    if (id === NONE) throw new TreeInvariantError(`no node ${path}`);
    return id;
  }

  get nodeCount(): number {
    return this.store.count;
  }

  /** Every node with its path, parents before children (tests and tools; not for large trees). */
  *entries(): Generator<[string, ZNode]> {
    const stack: Array<[string, number]> = [['/', ROOT]];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const [path, id] = top;
      yield [path, new ZNode(this.store, id)];
      for (let c = this.store.firstChild(id); c !== NONE; c = this.store.nextSibling(c)) {
        const name = this.store.name(c);
        stack.push([path === '/' ? `/${name}` : `${path}/${name}`, c]);
      }
    }
  }

  /** Descendants of path, excluding itself (getAllChildrenNumber). */
  countDescendants(path: string): number {
    const start = this.store.lookup(path);
    if (start === NONE) return 0;
    let count = 0;
    const stack: number[] = [start];
    for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
      for (let c = this.store.firstChild(id); c !== NONE; c = this.store.nextSibling(c)) {
        count++;
        stack.push(c);
      }
    }
    return count;
  }

  apply(entry: TxnEntry): ApplyOutcome {
    const { header, txn } = entry;
    if (header.zxid <= this.lastZxid) {
      throw new TreeInvariantError(`txn zxid ${header.zxid} is not after the last applied ${this.lastZxid}`);
    }
    const triggers: WatchTrigger[] = [];
    const result = this.applyOne(header, txn, triggers);
    this.lastZxid = header.zxid;
    return { zxid: header.zxid, result, triggers };
  }

  /**
   * Recovery: the same state change as apply, without building replies or watch triggers
   * (nobody is waiting for them), which makes replaying a long log markedly cheaper.
   */
  replay(entry: TxnEntry): void {
    const { header, txn } = entry;
    if (header.zxid <= this.lastZxid) {
      throw new TreeInvariantError(`txn zxid ${header.zxid} is not after the last applied ${this.lastZxid}`);
    }
    this.applyOne(header, txn, null);
    this.lastZxid = header.zxid;
  }

  private applyOne(h: TxnHeader, txn: Txn, triggers: WatchTrigger[] | null): OpResult {
    switch (txn.type) {
      case TxnType.createSession:
        this.sessions.set(txn.sessionId, { sessionId: txn.sessionId, timeoutMs: txn.timeoutMs, passwd: txn.passwd });
        return { kind: 'session' };
      case TxnType.closeSession:
        this.closeSession(h, txn.sessionId, triggers);
        return { kind: 'session' };
      case TxnType.create:
        return this.create(h, txn, triggers);
      case TxnType.delete:
      case TxnType.deleteContainer:
        this.deleteNode(txn.path, h.zxid, triggers);
        return { kind: 'delete' };
      case TxnType.setData: {
        const id = this.idOf(txn.path);
        const store = this.store;
        this.approximateDataSize += (txn.data?.length ?? 0) - store.dataLength(id);
        store.setData(id, txn.data);
        store.setCounter(id, I_VERSION, store.i(id, I_VERSION) + 1);
        store.setField(id, F_MZXID, h.zxid);
        store.setField(id, F_MTIME, h.timeMs);
        if (triggers === null) return REPLAYED;
        const node = new ZNode(store, id);
        triggers.push({ path: txn.path, type: EventType.NodeDataChanged, acl: node.acl });
        return { kind: 'setData', stat: statOf(node) };
      }
      case TxnType.setACL: {
        const id = this.idOf(txn.path);
        this.store.setAcl(id, txn.acl);
        this.store.setCounter(id, I_AVERSION, this.store.i(id, I_AVERSION) + 1);
        return triggers === null ? REPLAYED : { kind: 'setACL', stat: statOf(new ZNode(this.store, id)) };
      }
      case TxnType.check:
        return { kind: 'check' };
      case TxnType.error:
        return { kind: 'error', err: txn.err };
      case TxnType.multi: {
        const results: OpResult[] = [];
        for (const op of txn.ops) results.push(this.applyOne(h, op, triggers));
        return { kind: 'multi', results };
      }
    }
  }

  private create(h: TxnHeader, txn: Extract<Txn, { type: typeof TxnType.create }>, triggers: WatchTrigger[] | null): OpResult {
    const path = txn.path;
    const cut = path.lastIndexOf('/');
    const parent = this.parentForCreate(path, cut);
    const store = this.store;
    // Prep never lets this happen; if the log says otherwise the tree is already wrong, and
    // the server stops rather than diverge.
    const id = store.addChild(parent, path, cut + 1, path.length, txn.data, txn.acl, txn.kind, ownerFor(txn.kind, txn.ephemeralOwner, txn.ttlMs), h.zxid, h.timeMs);
    if (id === NONE) throw new TreeInvariantError(`create of existing ${path} at zxid ${h.zxid}`);
    store.setCounter(parent, I_CHILD_CREATES, store.i(parent, I_CHILD_CREATES) + 1);
    store.setField(parent, F_PZXID, h.zxid);
    this.approximateDataSize += path.length + (txn.data?.length ?? 0);
    if (txn.kind === NodeKind.ephemeral) {
      let owned = this.ephemerals.get(txn.ephemeralOwner);
      if (owned === undefined) this.ephemerals.set(txn.ephemeralOwner, (owned = new Set()));
      owned.add(path);
    } else if (txn.kind === NodeKind.container) {
      this.containers.add(path);
    } else if (txn.kind === NodeKind.ttl) {
      this.ttls.add(path);
    }
    if (triggers === null) return REPLAYED;
    const node = new ZNode(store, id);
    triggers.push({ path, type: EventType.NodeCreated, acl: node.acl });
    triggers.push({ path: parentOf(path), type: EventType.NodeChildrenChanged, acl: store.acl(parent) });
    return { kind: 'create', opcode: txn.opcode, path, stat: txn.opcode === OpCode.create ? null : statOf(node) };
  }

  private parentForCreate(path: string, cut: number): number {
    const parent = this.store.parentAt(path, cut);
    if (parent === NONE) throw new TreeInvariantError(`no parent for ${path}`);
    return parent;
  }

  private deleteNode(path: string, zxid: number, triggers: WatchTrigger[] | null): void {
    const store = this.store;
    const id = store.lookup(path);
    if (id === NONE) throw new TreeInvariantError(`delete of missing ${path} at zxid ${zxid}`);
    const parent = store.parent(id);
    const kind = store.kind(id);
    const owner = store.owner(id);
    const acl = store.acl(id);
    this.approximateDataSize -= path.length + store.dataLength(id);
    store.remove(id);
    if (zxid > store.f(parent, F_PZXID)) store.setField(parent, F_PZXID, zxid);
    if (kind === NodeKind.ephemeral && owner !== undefined) {
      const owned = this.ephemerals.get(owner);
      owned?.delete(path);
      if (owned?.size === 0) this.ephemerals.delete(owner);
    } else if (kind === NodeKind.container) {
      this.containers.delete(path);
    } else if (kind === NodeKind.ttl) {
      this.ttls.delete(path);
    }
    if (triggers === null) return;
    triggers.push({ path, type: EventType.NodeDeleted, acl });
    triggers.push({ path: parentOf(path), type: EventType.NodeChildrenChanged, acl: store.acl(parent) });
  }

  private closeSession(h: TxnHeader, sessionId: bigint, triggers: WatchTrigger[] | null): void {
    const owned = this.ephemerals.get(sessionId);
    if (owned !== undefined) {
      // Deepest first is not needed (ephemerals have no children); sorted for a stable order.
      for (const path of [...owned].sort()) this.deleteNode(path, h.zxid, triggers);
    }
    this.sessions.delete(sessionId);
  }

  /**
   * Freeze the current state for a snapshot: later applies copy a node's fields aside before
   * changing them, so the view reads the tree exactly as it is now until end().
   */
  beginSnapshot(): { zxid: number; view: FrozenView; sessions: SessionRecord[]; end: () => void } {
    const view = this.store.freeze();
    let ended = false;
    return {
      zxid: this.lastZxid,
      view,
      sessions: Array.from(this.sessions.values()),
      end: () => {
        if (ended) return;
        ended = true;
        this.store.thaw();
      },
    };
  }

  /** Rebuild from snapshot contents, parents before their children. */
  load(zxid: number, nodes: Iterable<LoadedNode>, sessions: Iterable<SessionRecord>): void {
    const store = this.store;
    store.resetToRoot([...OPEN_ACL_UNSAFE]);
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.sessions.clear();
    this.approximateDataSize = 0;
    for (const n of nodes) {
      const path = n.path;
      let id: number;
      if (path === '/') {
        id = ROOT;
        store.setData(ROOT, n.data);
        store.setAcl(ROOT, n.acl);
      } else {
        const cut = path.lastIndexOf('/');
        const parent = cut < 0 ? NONE : store.parentAt(path, cut);
        if (parent === NONE) throw new TreeInvariantError(`snapshot has ${path} before or without its parent`);
        id = store.addChild(parent, path, cut + 1, path.length, n.data, n.acl, n.kind, ownerFor(n.kind, n.ephemeralOwner, n.ttlMs), n.czxid, n.ctime);
        if (id === NONE) throw new TreeInvariantError(`snapshot has ${path} twice`);
        this.approximateDataSize += path.length;
      }
      store.setField(id, F_CZXID, n.czxid);
      store.setField(id, F_MZXID, n.mzxid);
      store.setField(id, F_PZXID, n.pzxid);
      store.setField(id, F_CTIME, n.ctime);
      store.setField(id, F_MTIME, n.mtime);
      store.setCounter(id, I_VERSION, n.version);
      store.setCounter(id, I_CHILD_CREATES, n.childCreates);
      store.setCounter(id, I_AVERSION, n.aversion);
      this.approximateDataSize += n.data?.length ?? 0;
      if (n.kind === NodeKind.ephemeral) {
        let owned = this.ephemerals.get(n.ephemeralOwner);
        if (owned === undefined) this.ephemerals.set(n.ephemeralOwner, (owned = new Set()));
        owned.add(path);
      } else if (n.kind === NodeKind.container) this.containers.add(path);
      else if (n.kind === NodeKind.ttl) this.ttls.add(path);
    }
    if (store.lookup('/zookeeper/config') === NONE) throw new TreeInvariantError('snapshot lacks the /zookeeper system nodes');
    for (const s of sessions) this.sessions.set(s.sessionId, s);
    this.lastZxid = zxid;
  }
}
