// Apache Curator 5.4 (Debian libcurator-*-java), a stock Java client, against the target
// server: container parents (createContainer), create2 with Stat, an InterProcessMutex held
// by one client and then the other, a LeaderLatch, a CuratorCache (persistent recursive
// watch, addWatch mode 1), a transaction and deletingChildrenIfNeeded
// (compat/clients/CuratorFlow.java, run with Java's single-file source launcher, which needs
// the jdk.compiler module: present in this machine's openjdk-17 runtime image). Checked
// against ZooKeeper 3.8.0 with ZOORAFT_TEST_TARGET=zookeeper.
import path from 'node:path';
import test from 'ava';
import { startTarget } from '../../test/helpers/target.js';
import type { Target } from '../../test/helpers/target.js';
import { CLIENTS_SRC_DIR, TOOLS, requireTool, run } from './run.js';

let target: Target;

test.before(async () => {
  target = await startTarget({});
});

test.after.always(async () => {
  await target.stop();
});

function parse(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && /^[a-zA-Z0-9.]+$/.test(line.slice(0, eq))) out.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return out;
}

test('Curator: containers, create2, lock, leader latch, CuratorCache, transaction', async (t) => {
  const java = requireTool(TOOLS.java, 'default-jre-headless');
  requireTool(TOOLS.curatorRecipesJar, 'libcurator-recipes-java');
  const cp = [TOOLS.curatorRecipesJar, TOOLS.slf4jNopJar].join(':');
  const r = await run(java, ['-cp', cp, path.join(CLIENTS_SRC_DIR, 'CuratorFlow.java'), target.connectString], { timeoutMs: 90000 });
  const out = parse(r.stdout);
  t.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  t.is(out.get('connected'), 'true');
  t.is(out.get('created'), '/curator/app/config');
  t.is(out.get('created.version'), '0');
  t.is(out.get('created.dataLength'), '2');
  t.is(out.get('get'), 'v1');
  t.is(out.get('set.version'), '1');
  t.is(out.get('get2'), 'v2');
  t.is(out.get('children'), '[config]');
  t.is(out.get('ephemeral'), '/curator/app/member-0000000001');
  t.is(out.get('lockA.acquired'), 'true');
  t.is(out.get('lockB.whileHeld'), 'false');
  t.is(out.get('lockB.afterRelease'), 'true');
  t.is(out.get('leader'), 'true');
  t.is(out.get('cache.initialized'), 'true');
  t.is(out.get('cache.event1'), 'create /curator/cache/new');
  t.is(out.get('cache.event2'), 'change /curator/cache/seed s2');
  t.is(out.get('cache.event3'), 'delete /curator/cache/new');
  t.is(out.get('txn.size'), '3');
  t.is(out.get('txn.created'), '/curator/txn');
  t.is(out.get('txn.get'), 'v3');
  t.is(out.get('exists.after.delete'), 'false');
  t.is(out.get('done'), 'true');
});
