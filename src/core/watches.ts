// Watch registrations and their triggering (ZooKeeper's WatchManager and
// WatchManager-backed DataTree.triggerWatch). Watches belong to a connection on this server;
// they are not replicated. Given a tree's triggers, it decides who hears what, once each.
import { EventType, WatcherType } from '../../wire/index.js';
import { parentOf } from './path.js';
import type { WatchTrigger } from './tree.js';

export interface Watcher {
  /** Stable id for reports (wchc/wchp use the session id). */
  readonly sessionId: bigint;
  deliver(type: number, path: string): void;
}

type Table = Map<string, Set<Watcher>>;

function add(table: Table, path: string, w: Watcher): void {
  let set = table.get(path);
  if (set === undefined) table.set(path, (set = new Set()));
  set.add(w);
}

function remove(table: Table, path: string, w: Watcher): boolean {
  const set = table.get(path);
  if (set === undefined || !set.delete(w)) return false;
  if (set.size === 0) table.delete(path);
  return true;
}

export class WatchManager {
  /** Data and exist watches share one table, as in ZooKeeper. */
  readonly data: Table = new Map();
  readonly child: Table = new Map();
  readonly persistent: Table = new Map();
  readonly recursive: Table = new Map();

  addData(path: string, w: Watcher): void {
    add(this.data, path, w);
  }

  addChild(path: string, w: Watcher): void {
    add(this.child, path, w);
  }

  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    add(recursive ? this.recursive : this.persistent, path, w);
  }

  /** Delivers every trigger of one applied txn, in order; one event per watcher per trigger. */
  triggerAll(triggers: readonly WatchTrigger[]): void {
    for (const t of triggers) this.trigger(t.path, t.type);
  }

  trigger(path: string, type: number): void {
    const notified = new Set<Watcher>();
    const fire = (set: Set<Watcher> | undefined, oneShot: boolean, table: Table | null): void => {
      if (set === undefined) return;
      for (const w of set) {
        if (!notified.has(w)) {
          notified.add(w);
          w.deliver(type, path);
        }
      }
      if (oneShot && table !== null) table.delete(path);
    };
    if (type === EventType.NodeChildrenChanged) {
      fire(this.child.get(path), true, this.child);
      fire(this.persistent.get(path), false, null);
      return;
    }
    fire(this.data.get(path), true, this.data);
    if (type === EventType.NodeDeleted) fire(this.child.get(path), true, this.child);
    fire(this.persistent.get(path), false, null);
    if (this.recursive.size > 0) {
      // Recursive watches hear about every descendant, with the changed node's own path.
      for (let p = path; ; p = parentOf(p)) {
        fire(this.recursive.get(p), false, null);
        if (p === '/') break;
      }
    }
  }

  /** checkWatches (remove=false) / removeWatches: true if anything matched. */
  removeWatches(path: string, type: number, w: Watcher, dryRun: boolean): boolean {
    const tables: Table[] = [];
    if (type === WatcherType.Children || type === WatcherType.Any) tables.push(this.child);
    if (type === WatcherType.Data || type === WatcherType.Any) tables.push(this.data);
    if (type === WatcherType.Persistent || type === WatcherType.Any) tables.push(this.persistent);
    if (type === WatcherType.PersistentRecursive || type === WatcherType.Any) tables.push(this.recursive);
    let found = false;
    for (const table of tables) {
      if (dryRun) found = found || (table.get(path)?.has(w) ?? false);
      else found = remove(table, path, w) || found;
    }
    return found;
  }

  /** All of a connection's watches go when it disconnects; the client re-sends them. */
  removeWatcher(w: Watcher, paths: Iterable<string> | null = null): void {
    for (const table of [this.data, this.child, this.persistent, this.recursive]) {
      const candidates = paths ?? [...table.keys()];
      for (const p of candidates) remove(table, p, w);
    }
  }

  get watchCount(): number {
    let n = 0;
    for (const table of [this.data, this.child, this.persistent, this.recursive]) for (const set of table.values()) n += set.size;
    return n;
  }

  /** path → session ids (wchp), and the inverse (wchc). */
  byPath(): Map<string, bigint[]> {
    const out = new Map<string, bigint[]>();
    for (const table of [this.data, this.child, this.persistent, this.recursive]) {
      for (const [p, set] of table) {
        const list = out.get(p) ?? [];
        for (const w of set) if (!list.includes(w.sessionId)) list.push(w.sessionId);
        out.set(p, list);
      }
    }
    return out;
  }
}
