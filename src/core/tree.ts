// The znode tree: a flat path → node map (as ZooKeeper's DataTree) plus the replicated
// session table. apply() is a pure function of (tree, txn): every replica that applies the
// same log gets the same tree, the same results and the same watch triggers.
import { EventType, OpCode } from '../../wire/index.js';
import type { ACL, StatNumbers } from '../../wire/index.js';
import { NodeKind, TxnType } from './txn.js';
import type { NodeKindValue, Txn, TxnEntry, TxnHeader } from './txn.js';
import { parentOf } from './path.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, sameAcl } from './acl.js';
import { ZNode } from './znode.js';

export { ZNode };

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

/** A broken invariant: the log and the tree disagree. Crash rather than diverge. */
/** What replay() returns for every op: nobody reads it. */
const REPLAYED: OpResult = { kind: 'check' };

export class TreeInvariantError extends Error {
  override name = 'TreeInvariantError';
}

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
  readonly nodes = new Map<string, ZNode>();
  readonly sessions = new Map<bigint, SessionRecord>();
  /** sessionId → ephemeral paths it owns. */
  readonly ephemerals = new Map<bigint, Set<string>>();
  /** Container and TTL nodes, for the reaper. */
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  lastZxid = 0;
  /** Sum of path and data bytes (mntr zk_approximate_data_size). */
  approximateDataSize = 0;
  /** While a snapshot is written: nodes made or copied since it began, free to change in place. */
  private snapshotFresh: Set<ZNode> | null = null;
  private aclIntern = new Map<string, ACL[]>();
  private lastInterned: ACL[] | null = null;
  /**
   * The parent of the last create, already made writable: creates come in runs under one
   * parent, and a lookup in a map of a million paths is a cache miss. Dropped on any delete,
   * copy-on-write or snapshot change, so it never outlives the node it names.
   */
  private createParentPath = '';
  private createParent: ZNode | null = null;

  constructor() {
    const root = new ZNode('', this.intern([...OPEN_ACL_UNSAFE]), 0, 0, NodeKind.persistent, 0n, 0);
    this.nodes.set('/', root);
    this.addSystemNode('/zookeeper', [...OPEN_ACL_UNSAFE]);
    this.addSystemNode('/zookeeper/quota', [...OPEN_ACL_UNSAFE]);
    const config = this.addSystemNode('/zookeeper/config', [...READ_ACL_UNSAFE]);
    // ZooKeeper 3.8 creates /zookeeper/config with aversion -1 (LIVE).
    config.aversion = -1;
  }

  /**
   * An ensemble member's /zookeeper/config: the membership as ZooKeeper writes it when a
   * member starts (a local setData with version -1 at zxid 0, not a transaction).
   */
  setEnsembleConfig(text: string, timeMs: number): void {
    const node = this.writable('/zookeeper/config');
    this.approximateDataSize += text.length - node.dataLength;
    node.dataBytes = text;
    node.version = -1;
    node.mzxid = 0;
    node.mtime = timeMs;
  }

  private addSystemNode(path: string, acl: ACL[]): ZNode {
    const node = new ZNode('', this.intern(acl), 0, 0, NodeKind.persistent, 0n, 0);
    this.nodes.set(path, node);
    this.nodes.get(parentOf(path))?.addChild(path);
    this.approximateDataSize += path.length;
    return node;
  }

  /** Nodes share identical ACL lists (ZooKeeper's ACL cache), saving memory on large trees. */
  intern(acl: ACL[]): ACL[] {
    // Most creates reuse the previous node's ACL (often OPEN_ACL_UNSAFE): skip the key string.
    const last = this.lastInterned;
    if (last !== null && sameAcl(acl, last)) return last;
    const key = acl.map((a) => `${a.perms},${a.id.scheme},${a.id.id}`).join(';');
    const hit = this.aclIntern.get(key);
    if (hit !== undefined) {
      this.lastInterned = hit;
      return hit;
    }
    this.aclIntern.set(key, acl);
    this.lastInterned = acl;
    return acl;
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Descendants of path, excluding itself (getAllChildrenNumber). */
  countDescendants(path: string): number {
    if (!this.nodes.has(path)) return 0;
    let count = 0;
    const stack: string[] = [path];
    while (stack.length > 0) {
      const children = this.nodes.get(stack.pop() as string)?.children;
      if (children === undefined || children === null) continue;
      for (const c of children) {
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
        const node = this.writable(txn.path);
        this.approximateDataSize += (txn.data?.length ?? 0) - node.dataLength;
        node.dataBytes = txn.data;
        node.version++;
        node.mzxid = h.zxid;
        node.mtime = h.timeMs;
        if (triggers === null) return REPLAYED;
        triggers.push({ path: txn.path, type: EventType.NodeDataChanged, acl: node.acl });
        return { kind: 'setData', stat: statOf(node) };
      }
      case TxnType.setACL: {
        const node = this.writable(txn.path);
        node.acl = this.intern(txn.acl);
        node.aversion++;
        return triggers === null ? REPLAYED : { kind: 'setACL', stat: statOf(node) };
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
    const parent = this.parentForCreate(txn.path);
    const node = new ZNode(txn.data, this.intern(txn.acl), h.zxid, h.timeMs, txn.kind, txn.ephemeralOwner, txn.ttlMs);
    const sizeBefore = this.nodes.size;
    this.nodes.set(txn.path, node);
    // One hash lookup instead of has + set. Prep never lets this happen; if the log says
    // otherwise the tree is already wrong, and the server stops rather than diverge.
    if (this.nodes.size === sizeBefore) throw new TreeInvariantError(`create of existing ${txn.path} at zxid ${h.zxid}`);
    this.snapshotFresh?.add(node);
    parent.addChild(txn.path);
    parent.childCreates++;
    parent.pzxid = h.zxid;
    this.approximateDataSize += txn.path.length + (txn.data?.length ?? 0);
    if (txn.kind === NodeKind.ephemeral) {
      let owned = this.ephemerals.get(txn.ephemeralOwner);
      if (owned === undefined) this.ephemerals.set(txn.ephemeralOwner, (owned = new Set()));
      owned.add(txn.path);
    } else if (txn.kind === NodeKind.container) {
      this.containers.add(txn.path);
    } else if (txn.kind === NodeKind.ttl) {
      this.ttls.add(txn.path);
    }
    if (triggers === null) return REPLAYED;
    triggers.push({ path: txn.path, type: EventType.NodeCreated, acl: node.acl });
    triggers.push({ path: parentOf(txn.path), type: EventType.NodeChildrenChanged, acl: parent.acl });
    return { kind: 'create', opcode: txn.opcode, path: txn.path, stat: txn.opcode === OpCode.create ? null : statOf(node) };
  }

  private parentForCreate(path: string): ZNode {
    const cut = path.lastIndexOf('/');
    const cached = this.createParent;
    if (cached !== null && cut > 0 && cut === this.createParentPath.length && path.startsWith(this.createParentPath)) return cached;
    const parentPath = cut <= 0 ? '/' : path.slice(0, cut);
    const parent = this.writable(parentPath);
    this.createParentPath = parentPath;
    this.createParent = parent;
    return parent;
  }

  private forgetCreateParent(): void {
    this.createParent = null;
    this.createParentPath = '';
  }

  private deleteNode(path: string, zxid: number, triggers: WatchTrigger[] | null): void {
    this.forgetCreateParent();
    const node = this.nodes.get(path);
    if (node === undefined) throw new TreeInvariantError(`delete of missing ${path} at zxid ${zxid}`);
    const parentPath = parentOf(path);
    const parent = this.writable(parentPath);
    this.nodes.delete(path);
    parent.removeChild(path);
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    this.approximateDataSize -= path.length + node.dataLength;
    if (node.kind === NodeKind.ephemeral) {
      const owned = this.ephemerals.get(node.ephemeralOwner);
      owned?.delete(path);
      if (owned?.size === 0) this.ephemerals.delete(node.ephemeralOwner);
    } else if (node.kind === NodeKind.container) {
      this.containers.delete(path);
    } else if (node.kind === NodeKind.ttl) {
      this.ttls.delete(path);
    }
    if (triggers === null) return;
    triggers.push({ path, type: EventType.NodeDeleted, acl: node.acl });
    triggers.push({ path: parentPath, type: EventType.NodeChildrenChanged, acl: parent.acl });
  }

  private closeSession(h: TxnHeader, sessionId: bigint, triggers: WatchTrigger[] | null): void {
    const owned = this.ephemerals.get(sessionId);
    if (owned !== undefined) {
      // Deepest first is not needed (ephemerals have no children); sorted for a stable order.
      for (const path of [...owned].sort()) this.deleteNode(path, h.zxid, triggers);
    }
    this.sessions.delete(sessionId);
  }

  /** The node to mutate: cloned first if a snapshot being written still needs the old one. */
  private writable(path: string): ZNode {
    const node = this.nodes.get(path);
    if (node === undefined) throw new TreeInvariantError(`no node ${path}`);
    if (this.snapshotFresh === null || this.snapshotFresh.has(node)) return node;
    const clone = node.clone();
    this.forgetCreateParent();
    this.snapshotFresh.add(clone);
    this.nodes.set(path, clone);
    return clone;
  }

  /**
   * Freeze the current state for a snapshot: later applies copy a node before changing it,
   * so the returned entries stay exactly as they are now while they are written out.
   */
  beginSnapshot(): { zxid: number; nodes: Array<[string, ZNode]>; sessions: SessionRecord[]; end: () => void } {
    const fresh = new Set<ZNode>();
    this.snapshotFresh = fresh;
    this.forgetCreateParent();
    return {
      zxid: this.lastZxid,
      nodes: Array.from(this.nodes),
      sessions: Array.from(this.sessions.values()),
      end: () => {
        if (this.snapshotFresh === fresh) this.snapshotFresh = null;
      },
    };
  }

  /** Rebuild from snapshot contents (the tree must be fresh). */
  load(zxid: number, nodes: Iterable<[string, ZNode]>, sessions: Iterable<SessionRecord>): void {
    this.forgetCreateParent();
    this.nodes.clear();
    this.ephemerals.clear();
    this.containers.clear();
    this.ttls.clear();
    this.sessions.clear();
    this.approximateDataSize = 0;
    for (const [path, node] of nodes) {
      node.children = null;
      node.acl = this.intern(node.acl);
      this.nodes.set(path, node);
    }
    for (const [path, node] of this.nodes) {
      if (path !== '/') {
        const parent = this.nodes.get(parentOf(path));
        if (parent === undefined) throw new TreeInvariantError(`snapshot has ${path} without its parent`);
        parent.addChild(path);
        this.approximateDataSize += path.length;
      }
      this.approximateDataSize += node.dataLength;
      if (node.kind === NodeKind.ephemeral) {
        let owned = this.ephemerals.get(node.ephemeralOwner);
        if (owned === undefined) this.ephemerals.set(node.ephemeralOwner, (owned = new Set()));
        owned.add(path);
      } else if (node.kind === NodeKind.container) this.containers.add(path);
      else if (node.kind === NodeKind.ttl) this.ttls.add(path);
    }
    for (const s of sessions) this.sessions.set(s.sessionId, s);
    this.lastZxid = zxid;
  }
}
