// The single-node replica over real files: snapshots are exact (copy-on-write while being
// written), recovery = newest snapshot + log replay, and old snapshots/log segments are purged.
import test from 'ava';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpCode } from '../../wire/index.js';
import { OPEN_ACL_UNSAFE } from '../../src/core/acl.js';
import { DataTree, statOf } from '../../src/core/tree.js';
import { decodeSnapshot, encodeNodes, encodeSnapshotEnd, encodeSnapshotHeader } from '../../src/core/snapshot-codec.js';
import { JuteWriter } from '../../wire/index.js';
import { TxnType, NodeKind } from '../../src/core/txn.js';
import { SingleNodeReplica } from '../../src/replica/single-node.js';
import type { ReplicaOptions } from '../../src/replica/single-node.js';
import type { WriteRequest } from '../../src/core/prep.js';
import { silentLogger } from '../../src/platform/log.js';
import { mulberry32 as seeded } from '../../src/platform/prng.js';


async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zooraft-replica-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function options(dir: string, snapCount: number): ReplicaOptions {
  let now = 1_700_000_000_000;
  return {
    dataDir: dir,
    dataLogDir: dir,
    forceSync: true,
    snapCount,
    snapRetainCount: 3,
    extendedTypesEnabled: true,
    skipACL: false,
    clock: { nowMs: () => ++now, monotonicMs: () => now },
    random: seeded(7),
    log: silentLogger(),
  };
}

function dump(tree: DataTree): string[] {
  return [...tree.entries()]
    .map(([p, n]) => `${p} ${n.data?.toString('hex') ?? 'null'} ${JSON.stringify(statOf(n), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`)
    .sort();
}

const auth = { ids: [] };
const create = (p: string, data: string): WriteRequest => ({
  opcode: OpCode.create2,
  req: { path: p, data: Buffer.from(data), acl: [...OPEN_ACL_UNSAFE], flags: 0, ttl: -1n },
});

test('a snapshot taken while the tree changes shows the tree exactly as it was when it began', (t) => {
  const tree = new DataTree();
  let zxid = 0;
  const apply = (txn: Parameters<DataTree['apply']>[0]['txn']): void => {
    zxid++;
    tree.apply({ header: { sessionId: 0n, cxid: 0, zxid, timeMs: zxid }, txn });
  };
  const mk = (p: string): void =>
    apply({ type: TxnType.create, opcode: OpCode.create2, path: p, data: p, acl: [...OPEN_ACL_UNSAFE], kind: NodeKind.persistent, ephemeralOwner: 0n, ttlMs: 0 });
  mk('/a');
  mk('/a/b');
  mk('/c');
  const before = dump(tree);
  const frozen = tree.beginSnapshot();
  apply({ type: TxnType.setData, path: '/a', data: 'changed' });
  apply({ type: TxnType.delete, path: '/a/b' });
  mk('/d');
  const w = new JuteWriter();
  encodeNodes(w, frozen.view, Infinity);
  frozen.end();
  const bytes = Buffer.concat([encodeSnapshotHeader(frozen.zxid, frozen.sessions), w.toBuffer(), encodeSnapshotEnd()]);
  const decoded = decodeSnapshot(bytes);
  const restored = new DataTree();
  restored.load(decoded.zxid, decoded.nodes, decoded.sessions);
  t.deepEqual(dump(restored), before);
  t.is(restored.lastZxid, 3);
  t.not(dump(tree).join('\n'), before.join('\n'));
});

test('recovery from snapshots plus log replay gives the same tree, and purge keeps 3 snapshots', async (t) => {
  const dir = await tempDir(t);
  const replica = await SingleNodeReplica.open(options(dir, 40));
  await replica.propose(create('/root', 'r'), 0n, 0, auth);
  const writes: Array<Promise<unknown>> = [];
  for (let i = 0; i < 300; i++) {
    writes.push(replica.propose(create(`/root/n${i}`, `v${i}`), 0n, i, auth));
    if (i % 3 === 0) writes.push(replica.propose({ opcode: OpCode.setData, req: { path: '/root', data: Buffer.from(`x${i}`), version: -1 } }, 0n, i, auth));
  }
  await Promise.all(writes);
  await replica.takeSnapshot();
  for (let i = 0; i < 20; i++) await replica.propose(create(`/after${i}`, 'a'), 0n, i, auth);
  const expected = dump(replica.tree);
  const lastZxid = replica.lastZxid;
  await replica.close();
  const files = await fs.readdir(dir);
  const snapshots = files.filter((f) => f.startsWith('snapshot.') && !f.includes('tmp'));
  t.true(snapshots.length <= 3, `at most 3 snapshots kept, found ${snapshots.join(', ')}`);
  t.true(snapshots.length >= 1);
  const reopened = await SingleNodeReplica.open(options(dir, 40));
  t.is(reopened.lastZxid, lastZxid);
  t.deepEqual(dump(reopened.tree), expected);
  await reopened.close();
});

test('group commit: writes proposed together share fsyncs and apply in proposal order', async (t) => {
  const dir = await tempDir(t);
  const replica = await SingleNodeReplica.open(options(dir, 100000));
  const order: number[] = [];
  replica.onApply = (o) => order.push(o.zxid);
  await Promise.all(Array.from({ length: 200 }, (_, i) => replica.propose(create(`/g${i}`, ''), 0n, i, auth)));
  t.deepEqual(order, Array.from({ length: 200 }, (_, i) => i + 1));
  t.true(replica.stats.fsyncCount < 20, `200 writes took ${replica.stats.fsyncCount} fsync rounds`);
  await replica.close();
});
