// An ensemble member: the I/O shell around the pure Raft core (src/raft). It owns the
// write-ahead log, the hard state, snapshots, the peer transport and the Raft tick timer, and
// carries out each Ready in order: persist (group commit through the WAL queue), send, apply.
//
// Writes: the leader preps a request against its tree plus outstanding changes (as the single
// server does), stamps zxid = the log index it will get, and proposes it. A follower forwards
// the request to the leader, learns the index it got, and answers its client when it applies
// that index itself (so the client then reads its own write here). A leader prepares nothing
// until it has applied its term's no-op (everything before is then in its tree).
// When the leader or the term changes, every write still waiting fails with NotServingError and
// the server drops its clients, as ZooKeeper's servers do; clients reconnect and go on.
import { DataTree } from '../core/tree.js';
import type { ApplyOutcome } from '../core/tree.js';
import { Prep } from '../core/prep.js';
import type { WriteRequest } from '../core/prep.js';
import type { AuthIds } from '../core/acl.js';
import { decodeTxnEntry, encodeTxnEntry } from '../core/txn.js';
import type { TxnEntry } from '../core/txn.js';
import { RaftNode } from '../raft/node.js';
import type { RaftStatus } from '../raft/node.js';
import type { Message, Ready } from '../raft/types.js';
import { WriteAheadLog } from '../storage/wal.js';
import { SnapshotStore } from '../storage/snapshot.js';
import { HardStateStore } from '../storage/hard-state.js';
import type { ReplicaOptions } from './single-node.js';
import { NotServingError } from './replica.js';
import type { Replica, ReplicaRole, ReplicaStats, SessionTouch } from './replica.js';
import { loadNewestSnapshot, loadSnapshotData, saveTreeSnapshot, snapshotThreshold } from './snapshots.js';
import { PeerTransport } from './peer-transport.js';
import { PEER_FRAME_BYTES_MAX, decodePeerMessage, encodePeerMessage } from './peer-messages.js';
import type { ForwardRequest, PeerMessage } from './peer-messages.js';

export interface EnsembleMember {
  id: number;
  host: string;
  /** server.N's first port: all Raft traffic (the election port is not used). */
  quorumPort: number;
}

/** How a follower ships a write to the leader (the server's codec, injected). */
export interface WriteBodyCodec {
  encode(request: WriteRequest): Buffer;
  decode(opcode: number, body: Buffer): WriteRequest | null;
}

/** The single server's options, plus the ensemble and Raft timing. */
export interface RaftReplicaOptions extends ReplicaOptions {
  serverId: number;
  members: readonly EnsembleMember[];
  /** What /zookeeper/config shows on this member (set locally at start, as ZooKeeper does). */
  configNodeText: string;
  /** Raft's tick; heartbeats every heartbeatTicks, elections after electionTicks..2×electionTicks. */
  tickMs: number;
  heartbeatTicks: number;
  electionTicks: number;
  codec: WriteBodyCodec;
}

const MAX_APPEND_BYTES = 1024 * 1024;
const MAX_COMMITTED_PER_READY = 4096;

interface Waiter {
  /** The leader's own proposals keep the decoded entry: no decode at apply. */
  entry: TxnEntry | null;
  resolve: (o: ApplyOutcome) => void;
  reject: (e: Error) => void;
}

interface InFlightReady {
  rd: Ready;
  durable: boolean;
}

export class RaftReplica implements Replica {
  tree: DataTree;
  readonly stats: ReplicaStats = { fsyncCount: 0, lastFsyncMs: 0, snapshotsTaken: 0, lastSnapshotMs: 0 };
  onApply: (outcome: ApplyOutcome, entry: TxnEntry) => void = () => {};
  onLeaderChange: (role: ReplicaRole) => void = () => {};
  onSessionTouches: (touches: readonly SessionTouch[]) => void = () => {};
  /** Kept current by noticeLeaderChange (read on every client packet). */
  role: ReplicaRole = 'looking';
  private prepState: Prep;
  private readonly opts: RaftReplicaOptions;
  private readonly node: RaftNode;
  private readonly wal: WriteAheadLog;
  private readonly snapshots: SnapshotStore;
  private readonly hardState: HardStateStore;
  private transport: PeerTransport | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private appliedIndex: number;
  /** Term of the entry that last changed the tree (a snapshot's term). */
  private treeTerm: number;
  private seen: Pick<RaftStatus, 'role' | 'leaderId' | 'term'>;
  private readonly waiters = new Map<number, Waiter>();
  private readonly forwards = new Map<number, { resolve: (index: number) => void; reject: (e: Error) => void }>();
  private readonly syncs = new Map<number, { resolve: (commitIndex: number) => void; reject: (e: Error) => void }>();
  /** Resolved once appliedIndex reaches `index`. */
  private appliedWaits: Array<{ index: number; resolve: () => void }> = [];
  /** Work for the leader once it has applied its term's no-op. */
  private leaderQueue: Array<() => void> = [];
  private nextRequestId = 1;
  private inflight: InFlightReady[] = [];
  private pumpScheduled = false;
  private hardStateSaved: Promise<void> = Promise.resolve();
  private txnsSinceSnapshot = 0;
  private snapshotAt: number;
  private snapshotRunning: Promise<void> | null = null;
  private failed: Error | null = null;
  private closed = false;

  private constructor(opts: RaftReplicaOptions, tree: DataTree, treeTerm: number, node: RaftNode, wal: WriteAheadLog, snapshots: SnapshotStore, hardState: HardStateStore) {
    this.opts = opts;
    this.tree = tree;
    this.treeTerm = treeTerm;
    this.node = node;
    this.wal = wal;
    this.snapshots = snapshots;
    this.hardState = hardState;
    this.prepState = this.freshPrep();
    this.appliedIndex = tree.lastZxid;
    this.snapshotAt = snapshotThreshold(opts.snapCount, opts.random);
    const st = node.status();
    this.seen = { role: st.role, leaderId: st.leaderId, term: st.term };
  }

  /** Recovery: newest snapshot, then the log after it (applied once the leader says it is committed). */
  static async open(opts: RaftReplicaOptions): Promise<RaftReplica> {
    const log = opts.log;
    const snapshots = new SnapshotStore({ dir: opts.dataDir, fsync: opts.forceSync, log });
    const tree = new DataTree();
    const snap = await loadNewestSnapshot(snapshots, tree, log);
    tree.setEnsembleConfig(opts.configNodeText, opts.clock.nowMs());
    const base = snap ?? { index: 0, term: 0 };
    const { wal, entries, tornTail } = await WriteAheadLog.open({ dir: opts.dataLogDir, fsync: opts.forceSync, log }, base.index);
    if (tornTail !== null) log.warn(tornTail, 'write-ahead log had a torn tail; truncated it (those entries were never acknowledged)');
    const hardState = new HardStateStore({ dir: opts.dataDir, fsync: opts.forceSync, log });
    const hs = await hardState.load();
    const node = new RaftNode(
      {
        id: opts.serverId,
        members: opts.members.map((m) => m.id),
        electionTicks: opts.electionTicks,
        heartbeatTicks: opts.heartbeatTicks,
        random: opts.random,
        maxAppendBytes: MAX_APPEND_BYTES,
        maxCommittedPerReady: MAX_COMMITTED_PER_READY,
      },
      { hardState: hs, snapshot: base, entries: entries.filter((e) => e.index > base.index) },
    );
    log.info({ snapshotIndex: base.index, logEntries: entries.length, term: hs.term, members: opts.members.map((m) => m.id) }, 'ensemble member recovered; waiting for a leader');
    const replica = new RaftReplica(opts, tree, base.term, node, wal, snapshots, hardState);
    const self = opts.members.find((m) => m.id === opts.serverId);
    if (self === undefined) throw new Error(`server id ${opts.serverId} is not among the ensemble members`);
    replica.transport = await PeerTransport.listen({
      selfId: opts.serverId,
      listenHost: self.host,
      listenPort: self.quorumPort,
      peers: opts.members.filter((m) => m.id !== opts.serverId).map((m) => ({ id: m.id, host: m.host, port: m.quorumPort })),
      maxFrameBytes: PEER_FRAME_BYTES_MAX,
      log: log.child({ component: 'peers' }),
    });
    replica.transport.onFrame = (from, frame) => replica.onFrame(from, frame);
    replica.tickTimer = setInterval(() => {
      replica.node.tick();
      replica.afterStep();
    }, opts.tickMs);
    return replica;
  }

  get prep(): Prep {
    return this.prepState;
  }

  get lastZxid(): number {
    return this.tree.lastZxid;
  }


  propose(request: WriteRequest, sessionId: bigint, cxid: number, auth: AuthIds): Promise<ApplyOutcome> {
    if (this.failed !== null) return Promise.reject(this.failed);
    const st = this.node.status();
    if (st.role === 'leader') {
      return new Promise((resolve, reject) => {
        this.whenLeaderReady(() => this.proposeAsLeader(request, sessionId, cxid, auth, { resolve, reject }), reject);
      });
    }
    if (st.leaderId === null) return Promise.reject(new NotServingError('no leader'));
    return this.forward(st.leaderId, request, sessionId, cxid, auth);
  }

  reportSessionTouches(touches: readonly SessionTouch[]): void {
    const leader = this.node.status().leaderId;
    if (leader === null || leader === this.opts.serverId || touches.length === 0) return;
    this.sendPeer(leader, { kind: 'touches', sessions: touches.slice() });
  }

  /** ZooKeeper's sync: a follower asks the leader how far it has committed and waits to apply that far. */
  sync(): Promise<void> {
    const st = this.node.status();
    if (st.role === 'leader') return this.waitApplied(st.commitIndex);
    if (st.leaderId === null) return Promise.reject(new NotServingError('no leader'));
    const requestId = this.nextRequestId++;
    const leader = st.leaderId;
    return new Promise<number>((resolve, reject) => {
      this.syncs.set(requestId, { resolve, reject });
      if (!this.sendPeer(leader, { kind: 'sync', requestId })) {
        this.syncs.delete(requestId);
        reject(new NotServingError('leader unreachable'));
      }
    }).then((commitIndex) => this.waitApplied(commitIndex));
  }

  async purge(): Promise<void> {
    const oldestKept = await this.snapshots.purge(this.opts.snapRetainCount);
    if (oldestKept !== null) await this.wal.compactPrefix(oldestKept.index);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    await this.transport?.close();
    this.failAll(new NotServingError('server closing'));
    if (this.snapshotRunning !== null) await this.snapshotRunning;
    await this.hardStateSaved.catch(() => {});
    await this.wal.close();
  }

  // ---- writes ----

  /** Preps and proposes now; the caller has checked that this member is a ready leader. */
  private proposeAsLeader(request: WriteRequest, sessionId: bigint, cxid: number, auth: AuthIds, answer: Pick<Waiter, 'resolve' | 'reject'> | null): number {
    const zxid = this.node.nextIndex;
    const txn = this.prepState.prepare(request, sessionId, auth, zxid);
    const entry: TxnEntry = { header: { sessionId, cxid, zxid, timeMs: this.opts.clock.nowMs() }, txn };
    const index = this.node.propose(encodeTxnEntry(entry));
    if (index !== zxid) throw new Error(`raft: proposal got index ${index ?? 'none'}, prepped as zxid ${zxid}`);
    // A forwarded write keeps its decoded entry too (no decode at apply); its follower answers the client.
    this.waiters.set(index, { entry, resolve: answer?.resolve ?? noop, reject: answer?.reject ?? noop });
    this.schedulePump();
    return index;
  }

  private whenLeaderReady(run: () => void, reject: (e: Error) => void): void {
    const st = this.node.status();
    if (st.role !== 'leader') {
      reject(new NotServingError('not the leader any more'));
      return;
    }
    if (this.appliedIndex >= st.termStartIndex) {
      run();
      return;
    }
    this.leaderQueue.push(() => {
      if (this.node.status().role === 'leader') run();
      else reject(new NotServingError('not the leader any more'));
    });
  }

  private forward(leader: number, request: WriteRequest, sessionId: bigint, cxid: number, auth: AuthIds): Promise<ApplyOutcome> {
    const requestId = this.nextRequestId++;
    const msg: ForwardRequest = { kind: 'forward', requestId, sessionId, cxid, opcode: request.opcode, authIds: auth.ids.slice(), body: this.opts.codec.encode(request) };
    return new Promise<ApplyOutcome>((resolve, reject) => {
      this.forwards.set(requestId, {
        resolve: (index) => {
          if (index <= this.appliedIndex) {
            reject(new NotServingError('write applied before its index was known'));
            return;
          }
          this.waiters.set(index, { entry: null, resolve, reject });
        },
        reject,
      });
      if (!this.sendPeer(leader, msg)) {
        this.forwards.delete(requestId);
        reject(new NotServingError('leader unreachable'));
      }
    });
  }

  /** Leader side of a follower's forwarded write. */
  private onForward(from: number, m: ForwardRequest): void {
    const answer = (index: number): void => {
      this.sendPeer(from, { kind: 'forwardResponse', requestId: m.requestId, index });
    };
    this.whenLeaderReady(
      () => {
        let request: WriteRequest | null;
        try {
          request = this.opts.codec.decode(m.opcode, m.body);
        } catch (err) {
          this.opts.log.warn({ from, opcode: m.opcode, err }, 'malformed forwarded write; refused');
          request = null;
        }
        if (request === null) {
          answer(0);
          return;
        }
        answer(this.proposeAsLeader(request, m.sessionId, m.cxid, { ids: m.authIds }, null));
      },
      () => answer(0),
    );
  }

  // ---- the Raft loop ----

  private onFrame(from: number, frame: Buffer): void {
    let m: PeerMessage;
    try {
      m = decodePeerMessage(frame);
    } catch (err) {
      this.opts.log.warn({ from, bytes: frame.length, err }, 'malformed message from a peer; dropped');
      return;
    }
    switch (m.kind) {
      case 'raft':
        if (m.message.from !== from) {
          this.opts.log.warn({ from, claims: m.message.from }, 'peer message with a wrong sender; dropped');
          return;
        }
        this.node.step(m.message);
        this.afterStep();
        return;
      case 'forward':
        this.onForward(from, m);
        return;
      case 'forwardResponse': {
        const f = this.forwards.get(m.requestId);
        if (f === undefined) return;
        this.forwards.delete(m.requestId);
        if (m.index === 0) f.reject(new NotServingError('the leader refused the write'));
        else f.resolve(m.index);
        return;
      }
      case 'touches':
        if (this.node.status().role === 'leader') this.onSessionTouches(m.sessions);
        return;
      case 'sync': {
        const st = this.node.status();
        if (st.role === 'leader') this.sendPeer(from, { kind: 'syncResponse', requestId: m.requestId, commitIndex: st.commitIndex });
        return;
      }
      case 'syncResponse': {
        const s = this.syncs.get(m.requestId);
        if (s === undefined) return;
        this.syncs.delete(m.requestId);
        s.resolve(m.commitIndex);
        return;
      }
    }
  }

  private afterStep(): void {
    this.noticeLeaderChange();
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    // Every proposal and message of this turn joins one Ready: one WAL write, one fsync.
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    while (!this.closed && this.failed === null && this.node.hasReady()) {
      const rd = this.node.ready();
      for (const m of rd.sendNow) this.sendRaft(m);
      const item: InFlightReady = { rd, durable: false };
      this.inflight.push(item);
      const io = this.persist(rd);
      if (io === null) {
        item.durable = true;
      } else {
        const started = this.opts.clock.monotonicMs();
        io.then(
          () => {
            if (rd.entries.length > 0) {
              this.stats.fsyncCount++;
              this.stats.lastFsyncMs = this.opts.clock.monotonicMs() - started;
            }
            item.durable = true;
            this.finishDurable();
          },
          (e: unknown) => this.fail(e),
        );
      }
    }
    this.finishDurable();
  }

  /** Readies finish in order: messages that depended on the disk, then applies. */
  private finishDurable(): void {
    let applied = false;
    while (this.inflight.length > 0 && (this.inflight[0] as InFlightReady).durable) {
      const { rd } = this.inflight.shift() as InFlightReady;
      if (rd.snapshot !== null) this.installSnapshot(rd.snapshot.index, rd.snapshot.term, rd.snapshot.data);
      for (const m of rd.messages) this.sendRaft(m);
      if (rd.committed.length > 0) {
        this.apply(rd);
        applied = true;
      }
      this.node.advance(rd);
    }
    this.noticeLeaderChange();
    if (applied) this.afterApply();
    if (this.node.hasReady()) this.schedulePump();
  }

  private persist(rd: Ready): Promise<unknown> | null {
    const ops: Array<Promise<unknown>> = [];
    if (rd.hardState !== null) {
      const hs = rd.hardState;
      this.hardStateSaved = this.hardStateSaved.then(() => this.hardState.save(hs));
      ops.push(this.hardStateSaved);
    }
    if (rd.snapshot !== null) {
      // The snapshot is on disk before the log it replaces is dropped, then the new entries follow.
      const snap = rd.snapshot;
      const entries = rd.entries;
      ops.push(
        this.snapshots
          .save({ index: snap.index, term: snap.term }, snap.data)
          .then(() => this.wal.truncateSuffix(1))
          .then(() => (entries.length > 0 ? this.wal.append(entries) : undefined)),
      );
      return Promise.all(ops);
    }
    if (rd.truncateFrom !== null) ops.push(this.wal.truncateSuffix(rd.truncateFrom));
    if (rd.entries.length > 0) ops.push(this.wal.append(rd.entries));
    return ops.length === 0 ? null : Promise.all(ops);
  }

  private apply(rd: Ready): void {
    for (const e of rd.committed) {
      if (e.index <= this.appliedIndex) continue; // superseded by an installed snapshot
      this.appliedIndex = e.index;
      const waiter = this.waiters.get(e.index);
      if (waiter !== undefined) this.waiters.delete(e.index);
      if (e.data.length === 0) continue; // a leader's no-op
      const entry = waiter?.entry ?? decodeTxnEntry(e.data);
      const outcome = this.tree.apply(entry);
      this.treeTerm = e.term;
      this.prepState.applied(outcome.zxid);
      this.onApply(outcome, entry);
      waiter?.resolve(outcome);
      this.txnsSinceSnapshot++;
    }
  }

  private afterApply(): void {
    if (this.appliedWaits.length > 0) {
      const done = this.appliedWaits.filter((w) => w.index <= this.appliedIndex);
      this.appliedWaits = this.appliedWaits.filter((w) => w.index > this.appliedIndex);
      for (const w of done) w.resolve();
    }
    const st = this.node.status();
    if (st.role === 'leader' && this.appliedIndex >= st.termStartIndex && this.leaderQueue.length > 0) {
      const queued = this.leaderQueue;
      this.leaderQueue = [];
      for (const run of queued) run();
    }
    if (this.txnsSinceSnapshot >= this.snapshotAt && this.snapshotRunning === null) {
      this.snapshotRunning = this.takeSnapshot().finally(() => {
        this.snapshotRunning = null;
      });
    }
  }

  private waitApplied(index: number): Promise<void> {
    if (index <= this.appliedIndex) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaits.push({ index, resolve }));
  }

  private installSnapshot(index: number, term: number, data: Buffer): void {
    const tree = new DataTree();
    loadSnapshotData(tree, data);
    tree.setEnsembleConfig(this.opts.configNodeText, this.opts.clock.nowMs());
    this.tree = tree;
    this.treeTerm = term;
    this.appliedIndex = index;
    this.prepState = this.freshPrep();
    this.opts.log.info({ index, term, znodes: tree.nodeCount }, 'installed a snapshot from the leader');
    // Clients saw the old tree: they reconnect, as after a leader change.
    this.failAll(new NotServingError('tree replaced by a snapshot'));
    this.onLeaderChange(this.role);
  }

  private sendRaft(m: Message): void {
    if (m.type !== 'snapshot') {
      this.sendPeer(m.to, { kind: 'raft', message: m });
      return;
    }
    this.snapshots.readNewest().then(
      (newest) => {
        if (newest === null || newest.meta.index === 0) {
          this.node.snapshotFailed(m.to);
          return;
        }
        this.opts.log.info({ to: m.to, index: newest.meta.index, bytes: newest.data.length }, 'sending a snapshot to a member that is behind');
        if (!this.sendPeer(m.to, { kind: 'raft', message: { ...m, snapshot: newest.meta, data: newest.data } })) this.node.snapshotFailed(m.to);
      },
      (err: unknown) => {
        this.opts.log.error({ err, to: m.to }, 'could not read the newest snapshot to send');
        this.node.snapshotFailed(m.to);
      },
    );
  }

  private sendPeer(to: number, m: PeerMessage): boolean {
    return this.transport?.send(to, encodePeerMessage(m)) ?? false;
  }

  // ---- leadership changes ----

  private noticeLeaderChange(): void {
    const st = this.node.status();
    const seen = this.seen;
    if (st.role === seen.role && st.leaderId === seen.leaderId && st.term === seen.term) return;
    const leaderChanged = st.leaderId !== seen.leaderId || st.term !== seen.term;
    this.seen = { role: st.role, leaderId: st.leaderId, term: st.term };
    this.role = roleOf(st);
    if (!leaderChanged) return; // e.g. follower -> preCandidate with no leader either way
    this.opts.log.info({ role: st.role, leaderId: st.leaderId, term: st.term }, st.leaderId === null ? 'no leader' : st.role === 'leader' ? 'leading' : 'following');
    // Outstanding changes were prepped against a log that may be rewritten: start clean.
    this.prepState = this.freshPrep();
    this.failAll(new NotServingError('the leader changed'));
    this.onLeaderChange(this.role);
  }

  private failAll(err: Error): void {
    const waiters = [...this.waiters.values()];
    const forwards = [...this.forwards.values()];
    const syncs = [...this.syncs.values()];
    const queued = this.leaderQueue;
    this.waiters.clear();
    this.forwards.clear();
    this.syncs.clear();
    this.leaderQueue = [];
    for (const w of waiters) w.reject(err);
    for (const f of forwards) f.reject(err);
    for (const s of syncs) s.reject(err);
    for (const run of queued) run(); // each re-checks leadership and fails
  }

  private fail(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.failed !== null) return;
    this.failed = err;
    this.opts.log.fatal({ err }, 'write-ahead log or hard state write failed; this member stops taking part');
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.failAll(err);
  }

  private freshPrep(): Prep {
    return new Prep(this.tree, { extendedTypesEnabled: this.opts.extendedTypesEnabled, skipACL: this.opts.skipACL });
  }

  private async takeSnapshot(): Promise<void> {
    this.txnsSinceSnapshot = 0;
    this.snapshotAt = snapshotThreshold(this.opts.snapCount, this.opts.random);
    const started = this.opts.clock.monotonicMs();
    try {
      const saved = await saveTreeSnapshot(this.tree, this.snapshots, this.treeTerm);
      this.stats.snapshotsTaken++;
      this.stats.lastSnapshotMs = this.opts.clock.monotonicMs() - started;
      this.opts.log.info({ file: saved.file, bytes: saved.bytes, zxid: saved.meta.index, ms: this.stats.lastSnapshotMs }, 'snapshot written');
      this.node.snapshotTaken(saved.meta);
      // Memory holds the log only since the newest snapshot (at most snapCount entries); a
      // member further behind is sent that snapshot. Disk keeps what the retained ones need.
      this.node.compact(saved.meta.index);
      await this.purge();
    } catch (e) {
      this.opts.log.error({ err: e }, 'snapshot failed; will retry after more transactions');
    }
  }
}

function roleOf(st: RaftStatus): ReplicaRole {
  if (st.role === 'leader') return 'leader';
  return st.leaderId !== null ? 'follower' : 'looking';
}

function noop(): void {}
