// Differential test: every scenario in compat/differential-scenarios.ts runs against a real
// ZooKeeper 3.8 (Debian package) and against zooraft, each on a fresh server, and the
// normalized replies must be identical step by step (see compat/differential.ts for what is
// normalized). One ava test per scenario group; a mismatch prints both sides' values.
//
// Where ZooKeeper 3.8.0 has a bug that later releases fixed, zooraft follows the fix and the
// difference is listed in ALLOWED_DIFFERENCES below, each tied to its ZOOKEEPER.md fact.
import test from 'ava';
import { ZooKeeperProcess } from './zookeeper-process.js';
import { ZooraftProcess } from '../test/helpers/zooraft-process.js';
import { compareRuns, formatMismatches, runScenario } from './differential.js';
import type { StepResult } from './differential.js';
import { SCENARIOS } from './differential-scenarios.js';
import { OpCode } from '../wire/index.js';

interface AllowedDifference {
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

const ALLOWED_DIFFERENCES: AllowedDifference[] = [
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

function reconcile(zk: StepResult[], zr: StepResult[]): { zk: StepResult[]; zr: StepResult[]; applied: string[] } {
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

const ZOORAFT_SETTINGS = { extendedTypesEnabled: 'true', '4lw.commands.whitelist': '*' };

test('the allowed differences each cite a ZOOKEEPER.md fact', (t) => {
  for (const d of ALLOWED_DIFFERENCES) t.regex(d.fact, /ZOOKEEPER\.md §\d/, d.id);
  t.true(SCENARIOS.length >= 10);
});

// Serial: each test starts a JVM and a zooraft; in parallel they would compete for 2 cores.
for (const scenario of SCENARIOS) {
  test.serial(`differential: ${scenario.name}`, async (t) => {
    const [zkRun, zrRun] = await Promise.all([
      (async () => {
        const zk = await ZooKeeperProcess.start({ extendedTypes: true, tickTimeMs: 2000 });
        try {
          return await runScenario({ name: 'zookeeper', host: zk.host, port: zk.port }, scenario);
        } finally {
          await zk.stop();
        }
      })(),
      (async () => {
        const zr = await ZooraftProcess.start({ settings: ZOORAFT_SETTINGS, tickTimeMs: 2000 });
        try {
          return await runScenario({ name: 'zooraft', host: zr.host, port: zr.port }, scenario);
        } finally {
          await zr.stop();
          await zr.removeData();
        }
      })(),
    ]);
    // Sanity: the oracle itself must have answered every step (no timeouts, no lost connections).
    const zkErrors = zkRun.filter((r) => JSON.stringify(r.obs).includes('"error":') || JSON.stringify(r.obs).includes('"timeout":true'));
    t.deepEqual(zkErrors, [], 'ZooKeeper itself failed a step: the scenario is wrong');
    const { zk, zr, applied } = reconcile(zkRun, zrRun);
    if (applied.length > 0) t.log(`allowed differences applied:\n  ${applied.join('\n  ')}`);
    const mismatches = compareRuns(zk, zr);
    // Compared as text so a failure prints both sides' values, step by step.
    t.is(mismatches.length === 0 ? '' : formatMismatches(scenario.name, mismatches), '', `${mismatches.length} step(s) differ`);
  });
}
