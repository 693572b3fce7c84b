// Differences between ZooKeeper 3.8.0 (the differential oracle) and zooraft that are allowed
// because 3.8.0 has a bug later releases fixed and zooraft follows the fix. Each one cites its
// ZOOKEEPER.md fact. Shared by the standalone and the ensemble differential tests, so both
// judge replies by the same rules.
import { OpCode } from '../wire/index.js';
import { compareRuns, formatMismatches } from './differential.js';
import type { StepResult } from './differential.js';

export interface AllowedDifference {
  id: string;
  /** The ZOOKEEPER.md fact this difference comes from. */
  fact: string;
  /** Rewrites one step's observations so the known difference disappears; null if it does not apply. */
  reconcile(label: string, zookeeper: unknown, zooraft: unknown): { zookeeper: unknown; zooraft: unknown } | null;
}

interface MultiObs {
  err: number;
  res: { opTypes: number[]; results: Array<{ type: number; path?: string }> };
}

function asMulti(v: unknown): MultiObs | null {
  const m = v as Partial<MultiObs> | null;
  if (m === null || typeof m !== 'object' || m.res === undefined || !Array.isArray(m.res.opTypes) || !Array.isArray(m.res.results)) return null;
  return m as MultiObs;
}

export const ALLOWED_DIFFERENCES: readonly AllowedDifference[] = [
  {
    // ZOOKEEPER.md §3.2 (ZOOKEEPER-4026): inside multi, 3.8.0-3.8.1 answer a create2 (op 15)
    // with a type-1 CreateResponse (path only); 3.8.2+/3.9 answer type 15 with path + Stat.
    // zooraft follows the fix. The path must still match; the Stat is checked elsewhere.
    id: 'multi-create2-result-type',
    fact: 'ZOOKEEPER.md §3.2: create2 result inside multi is type 1 in 3.8.0, 15 since 3.8.2 (ZOOKEEPER-4026)',
    reconcile(_label, zookeeper, zooraft) {
      const zk = asMulti(zookeeper);
      const zr = asMulti(zooraft);
      if (zk === null || zr === null) return null;
      let changed = false;
      const results = zr.res.results.map((r, i) => {
        const zkResult = zk.res.results[i];
        if (zk.res.opTypes[i] === OpCode.create2 && zkResult?.type === OpCode.create && r.type === OpCode.create2) {
          changed = true;
          return { type: OpCode.create, path: r.path };
        }
        return r;
      });
      return changed ? { zookeeper, zooraft: { ...zr, res: { ...zr.res, results } } } : null;
    },
  },
];

/** Applies the allowed differences step by step; `applied` names each one used. */
export function reconcile(zk: StepResult[], zr: StepResult[]): { zk: StepResult[]; zr: StepResult[]; applied: string[] } {
  const applied: string[] = [];
  const outZk: StepResult[] = [];
  const outZr: StepResult[] = [];
  for (let i = 0; i < Math.max(zk.length, zr.length); i++) {
    let a = zk[i];
    let b = zr[i];
    if (a !== undefined && b !== undefined) {
      for (const d of ALLOWED_DIFFERENCES) {
        const r = d.reconcile(a.label, a.obs, b.obs);
        if (r === null) continue;
        applied.push(`${a.label}: ${d.id}`);
        a = { label: a.label, obs: r.zookeeper };
        b = { label: b.label, obs: r.zooraft };
      }
    }
    if (a !== undefined) outZk.push(a);
    if (b !== undefined) outZr.push(b);
  }
  return { zk: outZk, zr: outZr, applied };
}

/** Steps where the oracle itself failed (error or timeout): the scenario, not zooraft, is wrong. */
export function oracleFailures(zk: readonly StepResult[]): StepResult[] {
  return zk.filter((r) => JSON.stringify(r.obs).includes('"error":') || JSON.stringify(r.obs).includes('"timeout":true'));
}

export interface Verdict {
  /** Allowed differences used, for the test log. */
  applied: string[];
  /** '' when every step matches; both sides' values step by step otherwise. */
  mismatchReport: string;
  mismatchCount: number;
}

/** Reconciles the allowed differences, then compares the runs step by step. */
export function judge(scenario: string, zkRun: StepResult[], zrRun: StepResult[]): Verdict {
  const { zk, zr, applied } = reconcile(zkRun, zrRun);
  const mismatches = compareRuns(zk, zr);
  return { applied, mismatchCount: mismatches.length, mismatchReport: mismatches.length === 0 ? '' : formatMismatches(scenario, mismatches) };
}
