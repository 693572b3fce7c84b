// Differential test: every scenario in compat/differential-scenarios.ts runs against a real
// ZooKeeper 3.8 (Debian package) and against zooraft, each on a fresh server, and the
// normalized replies must be identical step by step (see compat/differential.ts for what is
// normalized). One ava test per scenario group; a mismatch prints both sides' values.
//
// Where ZooKeeper 3.8.0 has a bug that later releases fixed, zooraft follows the fix and the
// difference is listed in ALLOWED_DIFFERENCES (compat/allowed-differences.ts), each tied to
// its ZOOKEEPER.md fact.
import test from 'ava';
import { ZooKeeperProcess } from './zookeeper-process.js';
import { ZooraftProcess } from '../test/helpers/zooraft-process.js';
import { runScenario } from './differential.js';
import { SCENARIOS } from './differential-scenarios.js';
import { ALLOWED_DIFFERENCES, judge, oracleFailures } from './allowed-differences.js';

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
    t.deepEqual(oracleFailures(zkRun), [], 'ZooKeeper itself failed a step: the scenario is wrong');
    const verdict = judge(scenario.name, zkRun, zrRun);
    if (verdict.applied.length > 0) t.log(`allowed differences applied:\n  ${verdict.applied.join('\n  ')}`);
    // Compared as text so a failure prints both sides' values, step by step.
    t.is(verdict.mismatchReport, '', `${verdict.mismatchCount} step(s) differ`);
  });
}
