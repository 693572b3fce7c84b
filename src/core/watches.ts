// Watch registrations and their triggering, modelled on ZooKeeper's two WatchManagers: a data
// table (getData/exists watches) and a child table (getChildren watches). A persistent watch
// (addWatch mode 0) sits in both tables, a recursive one (mode 1) in the data table only, so
// removeWatches/checkWatches by type see them exactly as ZooKeeper does. Watches belong to a
// connection on this server and are not replicated.
import { EventType, Perms, WatcherType } from '../../wire/index.js';
import { hasPermission } from './acl.js';
import type { AuthIds } from './acl.js';
import { parentOf } from './path.js';
import type { ACL } from '../../wire/index.js';
import type { WatchTrigger } from './tree.js';

export interface Watcher {
  /** wchc/wchp report watches by session. */
  readonly sessionId: bigint;
  deliver(type: number, path: string): void;
  /** CVE-2024-23944 fix (3.8.4+): events only for nodes the watcher may READ. */
  mayRead(acl: readonly ACL[]): boolean;
}

export const WatchMode = { standard: 0, persistent: 1, recursive: 2 } as const;
export type WatchModeValue = (typeof WatchMode)[keyof typeof WatchMode];

/** path → watcher → mode. */
export type WatchTable = Map<string, Map<Watcher, WatchModeValue>>;

/** No credentials at all: hasPermission with these is true only for what anyone may do. */
const ANONYMOUS: AuthIds = { ids: [] };

function add(table: WatchTable, path: string, w: Watcher, mode: WatchModeValue): void {
  let entries = table.get(path);
  if (entries === undefined) table.set(path, (entries = new Map()));
  // A persistent registration is not downgraded by a later one-shot read on the same path.
  const prev = entries.get(w);
  if (prev === undefined || prev === WatchMode.standard) entries.set(w, mode);
}

function remove(table: WatchTable, path: string, w: Watcher): boolean {
  const entries = table.get(path);
  if (entries === undefined || !entries.delete(w)) return false;
  if (entries.size === 0) table.delete(path);
  return true;
}

/** How one trigger's event reaches its watchers (the server batches big fan-outs). */
export type DeliverAll = (watchers: readonly Watcher[], type: number, path: string) => void;

function deliverEach(watchers: readonly Watcher[], type: number, path: string): void {
  for (const w of watchers) w.deliver(type, path);
}

export class WatchManager {
  constructor(private readonly deliverAll: DeliverAll = deliverEach) {}

  readonly data: WatchTable = new Map();
  readonly child: WatchTable = new Map();
  /** Recursive watches anywhere? Saves the ancestor walk on every trigger when there are none. */
  private recursiveCount = 0;

  addData(path: string, w: Watcher): void {
    add(this.data, path, w, WatchMode.standard);
  }

  addChild(path: string, w: Watcher): void {
    add(this.child, path, w, WatchMode.standard);
  }

  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    if (recursive) {
      let entries = this.data.get(path);
      if (entries === undefined) this.data.set(path, (entries = new Map()));
      if (entries.get(w) !== WatchMode.recursive) this.recursiveCount++;
      entries.set(w, WatchMode.recursive);
      return;
    }
    add(this.data, path, w, WatchMode.persistent);
    add(this.child, path, w, WatchMode.persistent);
  }

  /** Delivers every trigger of one applied txn, in order. */
  triggerAll(triggers: readonly WatchTrigger[]): void {
    for (const t of triggers) this.trigger(t.path, t.type, t.acl);
  }

  /** One event per watcher per trigger; one-shot watches are consumed, persistent ones stay. */
  trigger(path: string, type: number, acl: readonly ACL[]): void {
    // Most writes touch paths nobody watches: return before allocating anything.
    if (this.recursiveCount === 0) {
      const watched = type === EventType.NodeChildrenChanged ? this.child.has(path) : this.data.has(path) || (type === EventType.NodeDeleted && this.child.has(path));
      if (!watched) return;
    }
    // Thousands of sessions may watch one node: per watcher, only what is needed. A node anyone
    // may read needs no ACL check per watcher, and one table cannot name a watcher twice.
    const open = hasPermission(acl, Perms.READ, ANONYMOUS);
    const notified = type !== EventType.NodeChildrenChanged && (type === EventType.NodeDeleted || this.recursiveCount > 0) ? new Set<Watcher>() : null;
    const targets: Watcher[] = [];
    const fireTable = (table: WatchTable, p: string, onlyRecursive: boolean): void => {
      const entries = table.get(p);
      if (entries === undefined) return;
      let kept = 0;
      for (const [w, mode] of entries) {
        if (mode !== WatchMode.standard || onlyRecursive) kept++;
        if (onlyRecursive && mode !== WatchMode.recursive) continue;
        if (notified !== null) {
          if (notified.has(w)) continue;
          notified.add(w);
        }
        // The watch is used up either way, as in ZooKeeper; only the event is withheld.
        if (open || w.mayRead(acl)) targets.push(w);
      }
      // One-shot watches are used up: all of them at once when nothing else is left.
      if (kept === 0) table.delete(p);
      else if (kept < entries.size) for (const [w, mode] of entries) if (mode === WatchMode.standard) entries.delete(w);
    };
    if (type === EventType.NodeChildrenChanged) {
      fireTable(this.child, path, false);
    } else {
      fireTable(this.data, path, false);
      if (type === EventType.NodeDeleted) fireTable(this.child, path, false);
      if (this.recursiveCount > 0 && path !== '/') {
        // Recursive watches on any ancestor hear about the node, with the node's own path.
        for (let p = parentOf(path); ; p = parentOf(p)) {
          fireTable(this.data, p, true);
          if (p === '/') break;
        }
      }
    }
    if (targets.length > 0) this.deliverAll(targets, type, path);
  }

  /** checkWatches (dryRun) / removeWatches for one connection: true if anything matched. */
  removeWatches(path: string, type: number, w: Watcher, dryRun: boolean): boolean {
    const tables: WatchTable[] = [];
    if (type === WatcherType.Children || type === WatcherType.Any) tables.push(this.child);
    if (type === WatcherType.Data || type === WatcherType.Any) tables.push(this.data);
    let found = false;
    for (const table of tables) {
      if (dryRun) {
        found = found || (table.get(path)?.has(w) ?? false);
        continue;
      }
      const mode = table.get(path)?.get(w);
      if (remove(table, path, w)) {
        found = true;
        if (mode === WatchMode.recursive) this.recursiveCount--;
      }
    }
    return found;
  }

  /** All of a connection's watches go when it disconnects; the client re-sends them. */
  removeWatcher(w: Watcher, paths: Iterable<string>): void {
    for (const p of paths) {
      if (this.data.get(p)?.get(w) === WatchMode.recursive) this.recursiveCount--;
      remove(this.data, p, w);
      remove(this.child, p, w);
    }
  }

  get watchCount(): number {
    let n = 0;
    for (const table of [this.data, this.child]) for (const entries of table.values()) n += entries.size;
    return n;
  }
}
