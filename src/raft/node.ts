// The pure Raft core: leader election (with pre-vote and check-quorum), log replication and
// commitment. No sockets, timers or disk: the shell calls tick() at a fixed interval, step()
// for every message that arrives, propose() for new entries, and carries out each Ready
// (persist, send, apply) before calling advance(). The same code runs under the seeded
// simulator in test/raft, which is how its safety is tested.
import { RaftLog } from './log.js';
import type { AppendRequest, AppendResponse, Entry, HardState, Message, Ready, Role, SnapshotPoint, SnapshotRequest, VoteRequest, VoteResponse } from './types.js';

export interface RaftOptions {
  id: number;
  /** Every voting member, this one included. */
  members: readonly number[];
  /** Election timeout in ticks; each election waits a random time in [electionTicks, 2 × electionTicks). */
  electionTicks: number;
  heartbeatTicks: number;
  /** Uniform [0, 1): injected so that a seed replays a run. */
  random: () => number;
  /** Bytes of entries per append message (at least one entry is always sent). */
  maxAppendBytes: number;
  /** Committed entries handed out per Ready, so a long catch-up does not block the shell. */
  maxCommittedPerReady: number;
}

/** What survived on disk: the hard state, the newest snapshot point and the log after it. */
export interface RaftRestart {
  hardState: HardState;
  snapshot: SnapshotPoint;
  entries: Entry[];
}

type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A snapshot sent to a follower is retried after this many election timeouts without an answer. */
const SNAPSHOT_RETRY_ELECTIONS = 10;

/** The leader's view of one follower. */
interface Progress {
  match: number;
  next: number;
  state: ProgressState;
  /** Probe: an append is out, wait for its answer (or the next heartbeat) before another. */
  probeSent: boolean;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /** The commit index this follower can have learned from us so far. */
  commitSent: number;
  /** Tick at which the pending snapshot was sent (state 'snapshot'). */
  snapshotSentAt: number;
}

export interface RaftStatus {
  id: number;
  role: Role;
  term: number;
  leaderId: number | null;
  commitIndex: number;
  lastIndex: number;
  /** Leader: index of the no-op that opened its term (its earlier entries commit with it). */
  termStartIndex: number;
}

export class RaftNode {
  readonly id: number;
  private readonly opts: RaftOptions;
  private readonly peers: number[];
  private readonly log: RaftLog;
  private role: Role = 'follower';
  private term: number;
  private votedFor: number | null;
  private leaderId: number | null = null;
  private commitIndex: number;
  /** Committed entries up to here were handed to the shell to apply. */
  private handedIndex: number;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  /** Ticks since this member started (times snapshot resends). */
  private ticks = 0;
  private randomizedElectionTicks = 0;
  private votes = new Map<number, boolean>();
  private progress = new Map<number, Progress>();
  private termStartIndex = 0;
  /** Newest snapshot on disk (what a far-behind follower is sent). */
  private newestSnapshot: SnapshotPoint;
  private pendingSnapshot: (SnapshotPoint & { data: Buffer }) | null = null;
  private lastHardState: HardState;
  private outNow: Message[] = [];
  private outAfterPersist: Message[] = [];
  private broadcastPending = false;

  constructor(opts: RaftOptions, restart: RaftRestart) {
    if (!opts.members.includes(opts.id)) throw new Error(`raft: member list ${opts.members.join(',')} does not include this member ${opts.id}`);
    this.id = opts.id;
    this.opts = opts;
    this.peers = opts.members.filter((m) => m !== opts.id);
    this.log = new RaftLog(restart.snapshot, restart.entries);
    this.term = restart.hardState.term;
    this.votedFor = restart.hardState.votedFor;
    this.lastHardState = { ...restart.hardState };
    // Only what the snapshot covers is known to be committed; the leader tells us the rest.
    this.commitIndex = restart.snapshot.index;
    this.handedIndex = restart.snapshot.index;
    this.newestSnapshot = { ...restart.snapshot };
    this.resetElectionTimer();
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leaderId: this.leaderId,
      commitIndex: this.commitIndex,
      lastIndex: this.log.lastIndex,
      termStartIndex: this.termStartIndex,
    };
  }

  /** Index the next proposal will get (the shell stamps it into the entry before proposing). */
  get nextIndex(): number {
    return this.log.lastIndex + 1;
  }

  /** Leader only: appends an entry and returns its index; null if not the leader. */
  propose(data: Buffer): number | null {
    if (this.role !== 'leader') return null;
    const entry: Entry = { term: this.term, index: this.log.lastIndex + 1, data };
    this.log.append(entry);
    this.broadcastPending = true;
    if (this.peers.length === 0) this.maybeCommit();
    return entry.index;
  }

  tick(): void {
    this.ticks++;
    this.electionElapsed++;
    if (this.role === 'leader') {
      this.heartbeatElapsed++;
      if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
        this.heartbeatElapsed = 0;
        for (const p of this.peers) this.sendHeartbeat(p);
      }
      if (this.electionElapsed >= this.opts.electionTicks) {
        this.electionElapsed = 0;
        this.checkQuorum();
      }
      return;
    }
    if (this.electionElapsed >= this.randomizedElectionTicks) this.startElection(true);
  }

  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.term) {
      if ((m.type === 'vote') && this.inLease()) return; // a live leader is known: ignore disruptions
      const keepTerm = (m.type === 'vote' && m.pre) || (m.type === 'voteResponse' && m.pre && m.granted);
      if (!keepTerm) this.becomeFollower(m.term, m.type === 'append' || m.type === 'snapshot' ? m.from : null);
    } else if (m.term < this.term) {
      // A stale leader or candidate learns the newer term from the answer.
      if (m.type === 'append' || m.type === 'snapshot') this.respondAppend(m.from, false, 0);
      else if (m.type === 'vote') this.send({ type: 'voteResponse', term: this.term, from: this.id, to: m.from, pre: m.pre, granted: false }, false);
      return;
    }
    switch (m.type) {
      case 'vote':
        this.onVote(m);
        return;
      case 'voteResponse':
        this.onVoteResponse(m);
        return;
      case 'append':
        this.onAppend(m);
        return;
      case 'appendResponse':
        this.onAppendResponse(m);
        return;
      case 'snapshot':
        this.onSnapshot(m);
        return;
    }
  }

  /** The shell wrote a snapshot covering entries up to `point` (sent to far-behind followers). */
  snapshotTaken(point: SnapshotPoint): void {
    if (point.index > this.newestSnapshot.index) this.newestSnapshot = { ...point };
  }

  /** The shell dropped durable entries up to `index` (covered by a snapshot it keeps). */
  compact(index: number): void {
    this.log.compact(Math.min(index, this.newestSnapshot.index));
  }

  /** A snapshot could not be sent (no file, peer down): try again at the next heartbeat. */
  snapshotFailed(to: number): void {
    const pr = this.progress.get(to);
    if (pr?.state === 'snapshot') this.toProbe(pr);
  }

  hasReady(): boolean {
    return (
      this.broadcastPending ||
      this.log.hasUnstable() ||
      this.outNow.length > 0 ||
      this.outAfterPersist.length > 0 ||
      this.pendingSnapshot !== null ||
      this.hardStateChanged() ||
      Math.min(this.commitIndex, this.log.lastIndex) > this.handedIndex
    );
  }

  ready(): Ready {
    if (this.broadcastPending) {
      this.broadcastPending = false;
      if (this.role === 'leader') for (const p of this.peers) this.sendAppend(p, false);
    }
    const hardState = this.hardStateChanged() ? { term: this.term, votedFor: this.votedFor } : null;
    if (hardState !== null) this.lastHardState = { ...hardState };
    const snapshot = this.pendingSnapshot;
    this.pendingSnapshot = null;
    const { truncateFrom, entries } = this.log.takeUnstable();
    let sendNow = this.outNow;
    let messages = this.outAfterPersist;
    // A leader's appends may leave before its own write, unless a term change is being saved.
    if (hardState !== null) {
      messages = sendNow.concat(messages);
      sendNow = [];
    }
    this.outNow = [];
    this.outAfterPersist = [];
    const applyTo = Math.min(this.commitIndex, this.log.lastIndex, this.handedIndex + this.opts.maxCommittedPerReady);
    const committed = applyTo > this.handedIndex ? this.log.slice(this.handedIndex + 1, applyTo) : [];
    if (committed.length > 0) this.handedIndex = (committed.at(-1) as Entry).index;
    return { hardState, truncateFrom, entries, snapshot, sendNow, messages, committed };
  }

  /** The shell carried out `rd`: its entries are durable. */
  advance(rd: Ready): void {
    const last = rd.entries.at(-1);
    if (last !== undefined) this.log.markStable({ index: last.index, term: last.term });
    if (this.role === 'leader') this.maybeCommit();
  }

  // ---- roles ----

  private becomeFollower(term: number, leaderId: number | null): void {
    if (term !== this.term) {
      this.term = term;
      this.votedFor = null;
    }
    this.role = 'follower';
    this.leaderId = leaderId;
    this.progress.clear();
    this.resetElectionTimer();
  }

  private startElection(pre: boolean): void {
    if (this.role === 'leader') return;
    this.resetElectionTimer();
    this.leaderId = null;
    this.votes = new Map([[this.id, true]]);
    if (pre) {
      this.role = 'preCandidate';
    } else {
      this.role = 'candidate';
      this.term++;
      this.votedFor = this.id;
    }
    if (this.peers.length === 0) {
      if (pre) this.startElection(false);
      else this.becomeLeader();
      return;
    }
    const term = pre ? this.term + 1 : this.term;
    for (const p of this.peers) {
      const req: VoteRequest = { type: 'vote', term, from: this.id, to: p, pre, lastIndex: this.log.lastIndex, lastTerm: this.log.lastTerm };
      this.send(req, false);
    }
  }

  private becomeLeader(): void {
    this.role = 'leader';
    this.leaderId = this.id;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    this.progress.clear();
    for (const p of this.peers) {
      this.progress.set(p, { match: 0, next: this.log.lastIndex + 1, state: 'probe', probeSent: false, recentActive: true, commitSent: 0, snapshotSentAt: 0 });
    }
    // The no-op commits every earlier entry with it (Raft commits only the current term's entries directly).
    this.termStartIndex = this.log.lastIndex + 1;
    this.log.append({ term: this.term, index: this.termStartIndex, data: Buffer.alloc(0) });
    this.broadcastPending = true;
    if (this.peers.length === 0) this.maybeCommit();
  }

  private checkQuorum(): void {
    let active = 1;
    for (const pr of this.progress.values()) {
      if (pr.recentActive) active++;
      pr.recentActive = false;
    }
    if (active < this.quorum()) this.becomeFollower(this.term, null); // cut off: stop acting as leader
  }

  private inLease(): boolean {
    return this.leaderId !== null && this.leaderId !== this.id && this.electionElapsed < this.opts.electionTicks;
  }

  // ---- votes ----

  private onVote(m: VoteRequest): void {
    // A real vote: once per term, and not while following a leader of this term. A pre-vote
    // changes nothing here, so it only asks "would you vote for me in the next term?".
    const canVote = this.votedFor === m.from || (this.votedFor === null && this.leaderId === null) || (m.pre && m.term > this.term);
    const granted = canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm);
    if (granted && !m.pre) {
      this.votedFor = m.from;
      this.electionElapsed = 0;
    }
    const resp: VoteResponse = { type: 'voteResponse', term: granted && m.pre ? m.term : this.term, from: this.id, to: m.from, pre: m.pre, granted };
    this.send(resp, false);
  }

  private onVoteResponse(m: VoteResponse): void {
    const waiting = m.pre ? this.role === 'preCandidate' : this.role === 'candidate';
    if (!waiting) return;
    this.votes.set(m.from, m.granted);
    let yes = 0;
    let no = 0;
    for (const v of this.votes.values()) {
      if (v) yes++;
      else no++;
    }
    if (yes >= this.quorum()) {
      if (m.pre) this.startElection(false);
      else this.becomeLeader();
    } else if (no >= this.quorum()) {
      this.becomeFollower(this.term, null);
    }
  }

  // ---- replication, follower side ----

  private onAppend(m: AppendRequest): void {
    if (this.role !== 'follower' || this.leaderId !== m.from) this.becomeFollower(this.term, m.from);
    this.electionElapsed = 0;
    if (m.prevIndex < this.commitIndex) {
      // Old news (a duplicate or reordered append): what is committed here already matches.
      this.respondAppend(m.from, true, this.commitIndex);
      return;
    }
    if (this.log.termAt(m.prevIndex) !== m.prevTerm) {
      this.respondAppend(m.from, false, 0);
      return;
    }
    for (const e of m.entries) {
      const have = this.log.termAt(e.index);
      if (have === e.term) continue;
      if (have !== null) this.log.truncateFrom(e.index);
      this.log.append(e);
    }
    const lastNew = m.prevIndex + m.entries.length;
    const commit = Math.min(m.commit, lastNew);
    if (commit > this.commitIndex) this.commitIndex = commit;
    this.respondAppend(m.from, true, lastNew);
  }

  private onSnapshot(m: SnapshotRequest): void {
    if (this.role !== 'follower' || this.leaderId !== m.from) this.becomeFollower(this.term, m.from);
    this.electionElapsed = 0;
    if (m.snapshot.index <= this.commitIndex) {
      this.respondAppend(m.from, true, this.commitIndex);
      return;
    }
    if (this.log.termAt(m.snapshot.index) === m.snapshot.term) {
      // A late snapshot this log already contains: its entries after the snapshot may have
      // been acknowledged (counted for a commit), so they stay; the snapshot only commits.
      this.commitIndex = m.snapshot.index;
      this.respondAppend(m.from, true, m.snapshot.index);
      return;
    }
    this.log.resetTo(m.snapshot);
    this.commitIndex = m.snapshot.index;
    this.handedIndex = m.snapshot.index;
    this.newestSnapshot = { ...m.snapshot };
    this.pendingSnapshot = { ...m.snapshot, data: m.data };
    this.respondAppend(m.from, true, m.snapshot.index);
  }

  private respondAppend(to: number, success: boolean, matchIndex: number): void {
    const resp: AppendResponse = { type: 'appendResponse', term: this.term, from: this.id, to, success, matchIndex, lastIndex: this.log.lastIndex };
    this.send(resp, false);
  }

  // ---- replication, leader side ----

  private onAppendResponse(m: AppendResponse): void {
    if (this.role !== 'leader') return;
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.success) {
      if (m.matchIndex > pr.match) pr.match = m.matchIndex;
      if (pr.next < pr.match + 1) pr.next = pr.match + 1;
      if (pr.state !== 'replicate') {
        pr.state = 'replicate';
        pr.probeSent = false;
        pr.next = pr.match + 1;
      }
      this.maybeCommit();
      if (pr.next <= this.log.lastIndex) this.sendAppend(m.from, false);
      // Its ack may come after the commit it completes was announced: tell it now, not at the
      // next heartbeat (a follower answers its client only once it applies the write).
      if (Math.min(this.commitIndex, pr.match) > pr.commitSent) this.sendHeartbeat(m.from);
      return;
    }
    // Rejected: find the point where the logs agree, one probe at a time.
    if (pr.state === 'snapshot') return;
    pr.state = 'probe';
    pr.probeSent = false;
    pr.next = Math.max(pr.match + 1, Math.min(pr.next - 1, m.lastIndex + 1));
    this.sendAppend(m.from, false);
  }

  private toProbe(pr: Progress): void {
    pr.state = 'probe';
    pr.probeSent = false;
    pr.next = pr.match + 1;
  }

  /** Sends what the follower is missing; in probe state only one append at a time. */
  private sendAppend(to: number, heartbeat: boolean): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    if (pr.state === 'snapshot') return;
    if (pr.state === 'probe' && pr.probeSent && !heartbeat) return;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === null || pr.next < this.log.firstIndex) {
      pr.state = 'snapshot';
      pr.snapshotSentAt = this.ticks;
      const req: SnapshotRequest = { type: 'snapshot', term: this.term, from: this.id, to, snapshot: { ...this.newestSnapshot }, data: Buffer.alloc(0) };
      this.send(req, true);
      return;
    }
    const entries = this.log.slice(pr.next, this.log.lastIndex, this.opts.maxAppendBytes);
    if (entries.length === 0 && !heartbeat && pr.state === 'replicate') return;
    const req: AppendRequest = { type: 'append', term: this.term, from: this.id, to, prevIndex, prevTerm, entries, commit: this.commitIndex };
    this.send(req, true);
    pr.commitSent = Math.max(pr.commitSent, Math.min(this.commitIndex, prevIndex + entries.length));
    if (pr.state === 'probe') pr.probeSent = true;
    else if (entries.length > 0) pr.next = (entries.at(-1) as Entry).index + 1;
  }

  /** Heartbeat: a replicating follower gets the commit index; others a (re)probe. */
  private sendHeartbeat(to: number): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    if (pr.state === 'snapshot') {
      // Sending and installing a large snapshot takes a while: only one left unanswered for
      // SNAPSHOT_RETRY_ELECTIONS election timeouts (lost, or the follower restarted) is sent again.
      if (this.ticks - pr.snapshotSentAt < SNAPSHOT_RETRY_ELECTIONS * this.opts.electionTicks) return;
      this.toProbe(pr);
    }
    if (pr.state === 'probe') {
      this.sendAppend(to, true);
      return;
    }
    // Check everything sent so far (not just what was acknowledged): an ack lost on the way
    // is then made good, and the transport's order puts this behind the appends it covers.
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === null) {
      this.toProbe(pr);
      this.sendAppend(to, true);
      return;
    }
    const req: AppendRequest = { type: 'append', term: this.term, from: this.id, to, prevIndex, prevTerm, entries: [], commit: Math.min(this.commitIndex, prevIndex) };
    this.send(req, true);
    pr.commitSent = Math.max(pr.commitSent, req.commit);
  }

  private maybeCommit(): void {
    const matches = [this.log.stableIndex];
    for (const pr of this.progress.values()) matches.push(pr.match);
    matches.sort((a, b) => b - a);
    const candidate = matches[this.quorum() - 1] as number;
    if (candidate > this.commitIndex && this.log.termAt(candidate) === this.term) {
      this.commitIndex = candidate;
      // Followers learn the new commit index now, not at the next heartbeat.
      for (const [p, pr] of this.progress) if (pr.state === 'replicate') this.sendHeartbeat(p);
    }
  }

  // ---- helpers ----

  private quorum(): number {
    return Math.floor(this.opts.members.length / 2) + 1;
  }

  private send(m: Message, leaderAppend: boolean): void {
    if (leaderAppend) this.outNow.push(m);
    else this.outAfterPersist.push(m);
  }

  private hardStateChanged(): boolean {
    return this.lastHardState.term !== this.term || this.lastHardState.votedFor !== this.votedFor;
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.randomizedElectionTicks = this.opts.electionTicks + Math.floor(this.opts.random() * this.opts.electionTicks);
  }
}
