// A cluster of one: the shell that takes resolved txns, makes them durable in the Raft-shaped
// write-ahead log (group commit: every txn ready at once shares one write and one fsync),
// applies them in log order and snapshots the tree now and then. The Raft issue replaces
// "durable locally" with "durable on a quorum"; prep, apply and the log format stay.
import type { Logger } from 'pino';
import { DataTree } from '../core/tree.js';
import type { ApplyOutcome } from '../core/tree.js';
import { Prep } from '../core/prep.js';
import type { WriteRequest } from '../core/prep.js';
import type { AuthIds } from '../core/acl.js';
import { decodeTxnEntry, encodeTxnEntry } from '../core/txn.js';
import type { TxnEntry } from '../core/txn.js';
import { WriteAheadLog } from '../storage/wal.js';
import type { LogEntry } from '../storage/wal.js';
import { SnapshotStore } from '../storage/snapshot.js';
import type { Clock } from '../platform/clock.js';
import type { Replica, ReplicaRole, ReplicaStats, SessionTouch } from './replica.js';
import { loadNewestSnapshot, saveTreeSnapshot, snapshotThreshold } from './snapshots.js';

/** Single-node term: constant until elections exist. */
const TERM = 1;

export interface ReplicaOptions {
  dataDir: string;
  dataLogDir: string;
  forceSync: boolean;
  snapCount: number;
  snapRetainCount: number;
  extendedTypesEnabled: boolean;
  skipACL: boolean;
  clock: Clock;
  /** Uniform [0,1) source for the snapshot jitter (injected, seedable). */
  random: () => number;
  log: Logger;
}

interface Proposal {
  entry: TxnEntry;
  logEntry: LogEntry;
  resolve: (o: ApplyOutcome) => void;
  reject: (e: Error) => void;
}

export class SingleNodeReplica implements Replica {
  readonly tree: DataTree;
  readonly prep: Prep;
  readonly stats: ReplicaStats = { fsyncCount: 0, lastFsyncMs: 0, snapshotsTaken: 0, lastSnapshotMs: 0 };
  /** Called for every applied txn, in order, before its proposer hears back. */
  onApply: (outcome: ApplyOutcome, entry: TxnEntry) => void = () => {};
  onLeaderChange: (role: ReplicaRole) => void = () => {};
  onSessionTouches: (touches: readonly SessionTouch[]) => void = () => {};
  readonly role: ReplicaRole = 'standalone';
  private readonly opts: ReplicaOptions;
  private readonly wal: WriteAheadLog;
  private readonly snapshots: SnapshotStore;
  private lastProposedZxid: number;
  private batch: Proposal[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  private txnsSinceSnapshot = 0;
  private snapshotThreshold: number;
  private snapshotRunning: Promise<void> | null = null;
  private failed: Error | null = null;

  private constructor(opts: ReplicaOptions, tree: DataTree, wal: WriteAheadLog, snapshots: SnapshotStore) {
    this.opts = opts;
    this.tree = tree;
    this.wal = wal;
    this.snapshots = snapshots;
    this.prep = new Prep(tree, { extendedTypesEnabled: opts.extendedTypesEnabled, skipACL: opts.skipACL });
    this.lastProposedZxid = tree.lastZxid;
    this.snapshotThreshold = this.nextSnapshotThreshold();
  }

  /** Recovery: newest valid snapshot, then every log entry after it. */
  static async open(opts: ReplicaOptions): Promise<SingleNodeReplica> {
    const snapshots = new SnapshotStore({ dir: opts.dataDir, fsync: opts.forceSync, log: opts.log });
    const tree = new DataTree();
    await loadNewestSnapshot(snapshots, tree, opts.log);
    const { wal, entries, tornTail } = await WriteAheadLog.open({ dir: opts.dataLogDir, fsync: opts.forceSync, log: opts.log }, tree.lastZxid);
    if (tornTail !== null) opts.log.warn(tornTail, 'write-ahead log had a torn tail; truncated it (those writes were never acknowledged)');
    for (const e of entries) {
      if (e.index <= tree.lastZxid) continue;
      tree.replay(decodeTxnEntry(e.data));
    }
    opts.log.info({ replayed: entries.length, lastZxid: tree.lastZxid, sessions: tree.sessions.size, znodes: tree.nodeCount }, 'recovered');
    return new SingleNodeReplica(opts, tree, wal, snapshots);
  }

  get lastZxid(): number {
    return this.tree.lastZxid;
  }

  /** Alone, this server is the only one that sees its sessions. */
  reportSessionTouches(): void {}

  /** A single server is always caught up with itself. */
  sync(): Promise<void> {
    return Promise.resolve();
  }

  get pendingCount(): number {
    return this.batch.length + this.inFlight;
  }

  /** Resolve a write into a txn now (so later writes see it), and apply it once durable. */
  propose(request: WriteRequest, sessionId: bigint, cxid: number, auth: AuthIds): Promise<ApplyOutcome> {
    if (this.failed !== null) return Promise.reject(this.failed);
    const zxid = ++this.lastProposedZxid;
    const txn = this.prep.prepare(request, sessionId, auth, zxid);
    const entry: TxnEntry = { header: { sessionId, cxid, zxid, timeMs: this.opts.clock.nowMs() }, txn };
    const logEntry: LogEntry = { term: TERM, index: zxid, data: encodeTxnEntry(entry) };
    return new Promise((resolve, reject) => {
      this.batch.push({ entry, logEntry, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Every proposal made in this tick joins the batch; the log itself coalesces batches
        // that arrive while an fsync is running, so no need to wait a whole loop turn here.
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.inFlight += batch.length;
    const started = this.opts.clock.monotonicMs();
    this.wal.append(batch.map((p) => p.logEntry)).then(
      () => {
        this.stats.fsyncCount++;
        this.stats.lastFsyncMs = this.opts.clock.monotonicMs() - started;
        this.inFlight -= batch.length;
        this.applyBatch(batch);
      },
      (e: unknown) => {
        // A failed fsync leaves the log's state unknown: stop taking writes (ZooKeeper exits).
        const err = e instanceof Error ? e : new Error(String(e));
        this.failed = err;
        this.opts.log.fatal({ err }, 'write-ahead log append failed; refusing further writes');
        for (const p of batch) p.reject(err);
      },
    );
  }

  private applyBatch(batch: Proposal[]): void {
    for (const p of batch) {
      const outcome = this.tree.apply(p.entry);
      this.prep.applied(outcome.zxid);
      this.onApply(outcome, p.entry);
      p.resolve(outcome);
    }
    this.txnsSinceSnapshot += batch.length;
    if (this.txnsSinceSnapshot >= this.snapshotThreshold && this.snapshotRunning === null) {
      this.snapshotRunning = this.takeSnapshot().finally(() => {
        this.snapshotRunning = null;
      });
    }
  }

  private nextSnapshotThreshold(): number {
    return snapshotThreshold(this.opts.snapCount, this.opts.random);
  }

  /** A point-in-time snapshot written in pieces while clients go on (the tree copies on write). */
  async takeSnapshot(): Promise<void> {
    this.txnsSinceSnapshot = 0;
    this.snapshotThreshold = this.nextSnapshotThreshold();
    const started = this.opts.clock.monotonicMs();
    try {
      const saved = await saveTreeSnapshot(this.tree, this.snapshots, TERM);
      this.stats.snapshotsTaken++;
      this.stats.lastSnapshotMs = this.opts.clock.monotonicMs() - started;
      this.opts.log.info({ file: saved.file, bytes: saved.bytes, zxid: saved.meta.index, ms: this.stats.lastSnapshotMs }, 'snapshot written');
      await this.purge();
    } catch (e) {
      this.opts.log.error({ err: e }, 'snapshot failed; will retry after more transactions');
    }
  }

  /** Keep snapRetainCount snapshots and the log entries the oldest of them still needs. */
  async purge(): Promise<void> {
    const oldestKept = await this.snapshots.purge(this.opts.snapRetainCount);
    if (oldestKept !== null) await this.wal.compactPrefix(oldestKept.index);
  }

  async dataSizes(): Promise<{ snapshotBytes: number; logBytes: number }> {
    return { snapshotBytes: await this.snapshots.sizeBytes(), logBytes: await this.wal.sizeBytes() };
  }

  async close(): Promise<void> {
    if (this.snapshotRunning !== null) await this.snapshotRunning;
    await this.wal.close();
  }
}
