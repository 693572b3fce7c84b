// The seam between the client-facing server and replication. Today SingleNodeReplica (a
// cluster of one) implements it; the Raft replica will implement the same contract, so the
// server, prep, apply and the tree stay as they are.
import type { AuthIds } from '../core/acl.js';
import type { Prep, WriteRequest } from '../core/prep.js';
import type { ApplyOutcome, DataTree } from '../core/tree.js';
import type { TxnEntry } from '../core/txn.js';

export interface ReplicaStats {
  fsyncCount: number;
  lastFsyncMs: number;
  snapshotsTaken: number;
  lastSnapshotMs: number;
}

/** srvr's "Mode:" and whether clients are served. */
export type ReplicaRole = 'standalone' | 'leader' | 'follower' | 'looking';

export interface SessionTouch {
  sessionId: bigint;
  timeoutMs: number;
}

/** Why a write was not done: the ensemble lost or changed its leader (the client reconnects). */
export class NotServingError extends Error {}

export interface Replica {
  /** 'looking' while no leader is known: no client is served then, as in ZooKeeper. */
  readonly role: ReplicaRole;
  /** The applied state this server answers reads from. */
  readonly tree: DataTree;
  /** Resolves writes against tree + outstanding changes (leader side). */
  readonly prep: Prep;
  readonly stats: ReplicaStats;
  readonly lastZxid: number;
  /** Called for every applied txn, in log order, before its proposer hears back. */
  onApply: (outcome: ApplyOutcome, entry: TxnEntry) => void;
  /** The leader changed (or the tree was replaced by a snapshot): clients reconnect. */
  onLeaderChange: (role: ReplicaRole) => void;
  /** Leader: followers' clients were active (the leader alone expires sessions). */
  onSessionTouches: (touches: readonly SessionTouch[]) => void;
  /** Follower: tell the leader these sessions are alive. */
  reportSessionTouches(touches: readonly SessionTouch[]): void;
  /** Resolves once this server has applied everything committed when it was called (sync). */
  sync(): Promise<void>;
  /** Resolves once the write is durable (on a quorum, with Raft) and applied here. */
  propose(request: WriteRequest, sessionId: bigint, cxid: number, auth: AuthIds): Promise<ApplyOutcome>;
  /** autopurge: drop old snapshots and the log they cover. */
  purge(): Promise<void>;
  close(): Promise<void>;
}
