// Python kazoo (Debian python3-kazoo 2.8), a stock client, against the target server:
// CRUD, errors, sequential and ephemeral nodes, a ChildrenWatch, the Lock recipe and
// transactions (compat/clients/kazoo_flow.py). Checked against ZooKeeper 3.8.0 with
// ZOORAFT_TEST_TARGET=zookeeper.
import path from 'node:path';
import test from 'ava';
import { startTarget } from '../../test/helpers/target.js';
import type { Target } from '../../test/helpers/target.js';
import { CLIENTS_SRC_DIR, TOOLS, requireTool, run } from './run.js';

let target: Target;

test.before(async () => {
  // kazoo asks the server for its version with the `envi` four-letter word.
  target = await startTarget({ settings: { '4lw.commands.whitelist': '*' } });
});

test.after.always(async () => {
  await target.stop();
});

interface KazooFlow {
  connected: boolean;
  server_version: number[];
  create: string;
  get: [string, number, number];
  set_version: number;
  bad_version: string | null;
  node_exists: string | null;
  other_get: string;
  exists_after_delete: boolean;
  no_node: string | null;
  sequence: string;
  ephemeral: string;
  ephemeral_owner_matches: boolean;
  children_watch_fired: boolean;
  children_seen_last: string[] | null;
  lock_a: boolean;
  lock_b_while_held: boolean;
  contenders: string[];
  lock_b_after_release: boolean;
  txn: Array<string | boolean>;
  txn_get: string;
  txn_failed: string[];
  txn2_exists: boolean;
  ephemeral_after_close: boolean;
}

test('kazoo: CRUD, ephemeral, ChildrenWatch, Lock and transactions', async (t) => {
  const python = requireTool(TOOLS.python3, 'python3-kazoo');
  const r = await run(python, [path.join(CLIENTS_SRC_DIR, 'kazoo_flow.py'), target.connectString], { timeoutMs: 60000 });
  t.is(r.code, 0, r.stderr);
  const lastLine = r.stdout.trim().split('\n').pop() ?? '';
  const out = JSON.parse(lastLine) as KazooFlow;
  t.true(out.connected);
  t.deepEqual(out.server_version.slice(0, 2), [3, 8], 'the server reports a 3.8 version (kazoo parses envi)');
  t.is(out.create, '/kazoo/app');
  t.deepEqual(out.get, ['v1', 0, 2]);
  t.is(out.set_version, 1);
  t.is(out.bad_version, 'BadVersionError');
  t.is(out.node_exists, 'NodeExistsError');
  t.is(out.other_get, 'v2');
  t.false(out.exists_after_delete);
  t.is(out.no_node, 'NoNodeError');
  t.is(out.sequence, '/kazoo/app/s-0000000000');
  t.is(out.ephemeral, '/kazoo/app/e');
  t.true(out.ephemeral_owner_matches);
  t.true(out.children_watch_fired);
  t.deepEqual(out.children_seen_last, ['c1', 'c2']);
  t.true(out.lock_a);
  t.false(out.lock_b_while_held);
  t.deepEqual(out.contenders, ['a']);
  t.true(out.lock_b_after_release);
  t.deepEqual(out.txn, ['/kazoo/txn', 'ZnodeStat', true]);
  t.is(out.txn_get, 'v3');
  t.deepEqual(out.txn_failed, ['RolledBackError', 'BadVersionError']);
  t.false(out.txn2_exists);
  t.false(out.ephemeral_after_close);
});
