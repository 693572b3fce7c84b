// Messages between run.ts and its load workers (load-worker.ts).
import type { SparseHistogram } from './hist.js';
import type { FillPlan } from './workloads.js';

export interface WorkerConfig {
  host: string;
  port: number;
  /**
   * Ensemble: the members' client ports. Session j of this worker connects to
   * ports[(sessionBase + j) % ports.length], so the sessions of all workers spread evenly.
   */
  ports?: number[];
  sessionBase?: number;
  workload: string;
  workerIndex: number;
  /** Makes node names unique across the phases that share one server (saturated, single). */
  phase: string;
  /** Sessions this worker opens (for churn: concurrent connect/create/close loops). */
  sessions: number;
  /** Requests in flight per session. */
  depth: number;
  /** Count mode (memory fill): total requests for this worker instead of a time window. */
  count?: number;
  /** Count mode: the first fill unit of this worker (its units are first .. first + count − 1). */
  first?: number;
  /** The fill of the memory and recovery workloads. */
  fill?: FillPlan;
}

export interface WorkerResult {
  ops: number;
  hist: { buckets: SparseHistogram; count: number; sumUs: number; maxUs: number };
  errors: Array<[number, number]>;
  protocolErrors: string[];
  cpuUserUs: number;
  cpuSystemUs: number;
}

export type ToWorker =
  | { type: 'init'; cfg: WorkerConfig }
  | { type: 'go'; measureFrom: number; measureTo: number; count?: number; first?: number }
  | { type: 'arm' }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'armed' }
  | { type: 'notified'; lastAt: number }
  | { type: 'result'; result: WorkerResult }
  | { type: 'failed'; error: string };
