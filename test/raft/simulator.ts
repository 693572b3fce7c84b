// A seeded, deterministic simulator for the pure Raft core: members with in-memory "disks",
// a network that delays, drops, reorders and partitions messages, crashes that lose everything
// not yet durable, snapshots and log compaction. Every run is a function of its seed, so a
// failing seed replays exactly. It checks Raft's safety properties as it goes.
import { RaftNode } from '../../src/raft/node.js';
import type { Entry, HardState, Message, SnapshotPoint } from '../../src/raft/types.js';
import { mulberry32 } from '../../src/platform/prng.js';

interface Disk {
  hardState: HardState;
  snapshot: SnapshotPoint;
  /** The state machine as of the snapshot: applied payloads in order. */
  snapshotState: string[];
  entries: Entry[];
}

interface Member {
  id: number;
  disk: Disk;
  node: RaftNode | null;
  applied: string[];
  appliedIndex: number;
}

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
}

export interface SimOptions {
  seed: number;
  members: number;
  steps: number;
  dropRate: number;
  maxDelay: number;
  crashRate: number;
  partitionRate: number;
  proposeRate: number;
  snapshotEvery: number;
}

export class Simulator {
  readonly random: () => number;
  readonly members: Member[] = [];
  now = 0;
  private readonly opts: SimOptions;
  private inFlight: InFlight[] = [];
  private seq = 0;
  private cut = new Set<number>();
  /** Members kept down (a long outage) until heal(). */
  readonly held = new Set<number>();
  /** Safety record: the payload committed at each index, by whoever applied it first. */
  readonly committedAt = new Map<number, string>();
  readonly leaderOfTerm = new Map<number, number>();
  proposed = 0;
  private nextValue = 1;

  constructor(opts: SimOptions) {
    this.opts = opts;
    this.random = mulberry32(opts.seed);
    for (let id = 1; id <= opts.members; id++) {
      const disk: Disk = { hardState: { term: 0, votedFor: null }, snapshot: { index: 0, term: 0 }, snapshotState: [], entries: [] };
      const m: Member = { id, disk, node: null, applied: [], appliedIndex: 0 };
      this.members.push(m);
      this.boot(m);
    }
  }

  private boot(m: Member): void {
    const ids = this.members.length === this.opts.members ? this.members.map((x) => x.id) : Array.from({ length: this.opts.members }, (_, i) => i + 1);
    m.node = new RaftNode(
      { id: m.id, members: ids, electionTicks: 10, heartbeatTicks: 2, random: mulberry32(this.opts.seed * 31 + m.id * 7 + this.now), maxAppendBytes: 64, maxCommittedPerReady: 5 },
      { hardState: { ...m.disk.hardState }, snapshot: { ...m.disk.snapshot }, entries: m.disk.entries.slice() },
    );
    // Restart: the state machine is the snapshot; the rest is re-applied once known committed.
    m.applied = m.disk.snapshotState.slice();
    m.appliedIndex = m.disk.snapshot.index;
  }

  leaders(): Member[] {
    return this.members.filter((m) => m.node?.status().role === 'leader');
  }

  step(faults: boolean): void {
    this.now++;
    const o = this.opts;
    if (faults) {
      if (this.random() < o.partitionRate) {
        this.cut = new Set();
        const isolated = 1 + Math.floor(this.random() * this.members.length);
        this.cut.add(isolated);
      } else if (this.random() < o.partitionRate) {
        this.cut = new Set();
      }
      if (this.random() < o.crashRate) {
        const victim = this.members[Math.floor(this.random() * this.members.length)] as Member;
        victim.node = null; // everything not on its disk is gone
      }
    }
    for (const m of this.members) if (m.node === null && !this.held.has(m.id) && this.random() < 0.2) this.boot(m);
    for (const m of this.members) m.node?.tick();
    // Deliver what is due (in random order among equals: reordering).
    const due = this.inFlight.filter((f) => f.at <= this.now);
    this.inFlight = this.inFlight.filter((f) => f.at > this.now);
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const f of due) {
      const target = this.members[f.msg.to - 1];
      if (target?.node == null) continue;
      target.node.step(f.msg);
      this.drain(target);
    }
    if (faults && this.random() < o.proposeRate) {
      for (const l of this.leaders()) {
        const value = `v${this.nextValue++}`;
        if (l.node?.propose(Buffer.from(value)) !== null) this.proposed++;
        this.drain(l);
      }
    }
    if (o.snapshotEvery > 0 && this.now % o.snapshotEvery === 0) {
      for (const m of this.members) this.snapshot(m);
    }
    for (const m of this.members) this.drain(m);
    this.checkLeaders();
  }

  /** Carries out every Ready of a member: persist, send, apply, advance. */
  drain(m: Member): void {
    for (let guard = 0; m.node !== null && m.node.hasReady() && guard < 100; guard++) {
      const node = m.node;
      const rd = node.ready();
      const disk = m.disk;
      if (rd.snapshot !== null) {
        disk.snapshot = { index: rd.snapshot.index, term: rd.snapshot.term };
        disk.snapshotState = JSON.parse(rd.snapshot.data.toString()) as string[];
        disk.entries = [];
        m.applied = disk.snapshotState.slice();
        m.appliedIndex = rd.snapshot.index;
        this.recordCommitted(m.applied, 0);
      }
      if (rd.hardState !== null) disk.hardState = { ...rd.hardState };
      if (rd.truncateFrom !== null) {
        const from = rd.truncateFrom;
        disk.entries = disk.entries.filter((e) => e.index < from);
      }
      for (const e of rd.entries) {
        const last = disk.entries.at(-1)?.index ?? disk.snapshot.index;
        if (e.index !== last + 1) throw new Error(`seed ${this.opts.seed}: member ${m.id} writes ${e.index} after ${last}`);
        disk.entries.push(e);
      }
      for (const msg of [...rd.sendNow, ...rd.messages]) this.send(m, msg);
      for (const e of rd.committed) {
        if (e.index !== m.appliedIndex + 1) throw new Error(`seed ${this.opts.seed}: member ${m.id} applies ${e.index} after ${m.appliedIndex}`);
        m.appliedIndex = e.index;
        if (e.data.length > 0) m.applied.push(`${e.index}:${e.data.toString()}`);
        this.recordCommittedEntry(e);
      }
      node.advance(rd);
    }
  }

  private send(from: Member, msg: Message): void {
    if (msg.type === 'snapshot') {
      // The shell attaches the newest snapshot it has.
      msg = { ...msg, snapshot: { ...from.disk.snapshot }, data: Buffer.from(JSON.stringify(from.disk.snapshotState)) };
      if (from.disk.snapshot.index === 0) {
        from.node?.snapshotFailed(msg.to);
        return;
      }
    }
    if (this.cut.has(from.id) || this.cut.has(msg.to)) return;
    if (this.random() < this.opts.dropRate) return;
    const delay = 1 + Math.floor(this.random() * this.opts.maxDelay);
    this.inFlight.push({ at: this.now + delay, seq: this.seq++, msg });
  }

  /** Snapshot the applied state and drop the log it covers. */
  private snapshot(m: Member): void {
    if (m.node === null || m.appliedIndex <= m.disk.snapshot.index) return;
    const point = { index: m.appliedIndex, term: m.disk.entries.find((e) => e.index === m.appliedIndex)?.term ?? -1 };
    if (point.term < 0) return; // applied past the durable log (not yet written): wait
    m.disk.snapshot = point;
    m.disk.snapshotState = m.applied.slice();
    m.disk.entries = m.disk.entries.filter((e) => e.index > point.index);
    m.node.snapshotTaken(point);
    m.node.compact(point.index);
  }

  private recordCommittedEntry(e: Entry): void {
    const value = `${e.term}:${e.data.toString()}`;
    const seen = this.committedAt.get(e.index);
    if (seen === undefined) this.committedAt.set(e.index, value);
    else if (seen !== value) throw new Error(`seed ${this.opts.seed}: index ${e.index} committed as ${seen} and as ${value}`);
  }

  private recordCommitted(applied: string[], _from: number): void {
    for (const a of applied) {
      const idx = Number(a.slice(0, a.indexOf(':')));
      const seen = this.committedAt.get(idx);
      if (seen !== undefined && !seen.endsWith(`:${a.slice(a.indexOf(':') + 1)}`)) throw new Error(`seed ${this.opts.seed}: snapshot disagrees at ${idx}`);
    }
  }

  private checkLeaders(): void {
    for (const l of this.leaders()) {
      const term = l.node?.status().term ?? 0;
      const known = this.leaderOfTerm.get(term);
      if (known === undefined) this.leaderOfTerm.set(term, l.id);
      else if (known !== l.id) throw new Error(`seed ${this.opts.seed}: two leaders in term ${term}: ${known} and ${l.id}`);
    }
  }

  /** After the faults stop: everyone up, no partition, run until quiet. */
  heal(): void {
    this.cut = new Set();
    this.held.clear();
    for (const m of this.members) if (m.node === null) this.boot(m);
  }
}
