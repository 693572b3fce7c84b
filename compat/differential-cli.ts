// Runs the differential scenarios against one target and prints the normalized replies.
//   node dist/compat/differential-cli.js [zookeeper|zooraft|both] [scenario name substring]
// 'zookeeper' (default) needs only Debian's zookeeper package: use it to see what real
// ZooKeeper answers to a new step before adding it. 'both' prints the mismatches.
import { ZooKeeperProcess } from './zookeeper-process.js';
import { ZooraftProcess } from '../test/helpers/zooraft-process.js';
import { compareRuns, formatMismatches, runScenario } from './differential.js';
import type { StepResult } from './differential.js';
import { SCENARIOS } from './differential-scenarios.js';

export const ZOORAFT_SETTINGS = { extendedTypesEnabled: 'true', '4lw.commands.whitelist': '*' } as const;

async function runOn(which: 'zookeeper' | 'zooraft', scenarioIndex: number): Promise<StepResult[]> {
  const scenario = SCENARIOS[scenarioIndex];
  if (scenario === undefined) throw new Error('no such scenario');
  if (which === 'zookeeper') {
    const zk = await ZooKeeperProcess.start({ extendedTypes: true, tickTimeMs: 2000 });
    try {
      return await runScenario({ name: 'zookeeper', host: zk.host, port: zk.port }, scenario);
    } finally {
      await zk.stop();
    }
  }
  const zr = await ZooraftProcess.start({ settings: { ...ZOORAFT_SETTINGS }, tickTimeMs: 2000 });
  try {
    return await runScenario({ name: 'zooraft', host: zr.host, port: zr.port }, scenario);
  } finally {
    await zr.stop();
    await zr.removeData();
  }
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'zookeeper';
  const filter = process.argv[3] ?? '';
  if (mode !== 'zookeeper' && mode !== 'zooraft' && mode !== 'both') throw new Error(`unknown target ${mode}`);
  for (let i = 0; i < SCENARIOS.length; i++) {
    const scenario = SCENARIOS[i];
    if (scenario === undefined || !scenario.name.includes(filter)) continue;
    process.stdout.write(`\n## ${scenario.name}\n`);
    if (mode === 'both') {
      const [zk, zr] = await Promise.all([runOn('zookeeper', i), runOn('zooraft', i)]);
      const mismatches = compareRuns(zk, zr);
      process.stdout.write(mismatches.length === 0 ? 'identical\n' : `${formatMismatches(scenario.name, mismatches)}\n`);
      continue;
    }
    for (const r of await runOn(mode, i)) process.stdout.write(`${r.label}\n    ${JSON.stringify(r.obs)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
