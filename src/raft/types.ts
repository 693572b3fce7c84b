// The vocabulary of the pure Raft core: log entries, the messages members exchange, the state
// that must be durable, and the Ready batch the I/O shell carries out. Nothing here does I/O.

export interface Entry {
  term: number;
  index: number;
  /** Opaque to Raft; an empty payload is the leader's no-op that starts its term. */
  data: Buffer;
}

/** Must be durable before any message that depends on it leaves this member. */
export interface HardState {
  term: number;
  votedFor: number | null;
}

/** The newest entry a snapshot covers. */
export interface SnapshotPoint {
  index: number;
  term: number;
}

interface MessageBase {
  term: number;
  from: number;
  to: number;
}

/** RequestVote; `pre` is a pre-vote (no term change until a majority would vote). */
export interface VoteRequest extends MessageBase {
  type: 'vote';
  pre: boolean;
  lastIndex: number;
  lastTerm: number;
}

export interface VoteResponse extends MessageBase {
  type: 'voteResponse';
  pre: boolean;
  granted: boolean;
}

/** AppendEntries; with no entries it is a heartbeat that also carries the commit index. */
export interface AppendRequest extends MessageBase {
  type: 'append';
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}

export interface AppendResponse extends MessageBase {
  type: 'appendResponse';
  success: boolean;
  /** success: the follower's log matches the leader's up to here. */
  matchIndex: number;
  /** failure: the follower's last index, so the leader can skip back fast. */
  lastIndex: number;
}

/**
 * The follower is behind the leader's compacted log: the shell attaches its newest snapshot
 * (index, term and data) when it sends this; the core only asks for it.
 */
export interface SnapshotRequest extends MessageBase {
  type: 'snapshot';
  snapshot: SnapshotPoint;
  data: Buffer;
}

export type Message = VoteRequest | VoteResponse | AppendRequest | AppendResponse | SnapshotRequest;

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/**
 * What the shell does after each step, in this order: make `hardState` and `entries` durable
 * (after cutting the log at `truncateFrom`, if set; after installing `snapshot`, if set), then
 * send `messages`, then apply `committed` in order, then call advance(). `sendNow` may leave
 * at once: they are a leader's appends, safe before its own disk write.
 */
export interface Ready {
  hardState: HardState | null;
  /** Durable log entries with index >= truncateFrom must go before `entries` are written. */
  truncateFrom: number | null;
  entries: Entry[];
  /** A snapshot received from the leader: install it; the log restarts after it. */
  snapshot: (SnapshotPoint & { data: Buffer }) | null;
  sendNow: Message[];
  messages: Message[];
  committed: Entry[];
}
