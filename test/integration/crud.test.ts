// Success paths of every data opcode with ZooKeeper's exact Stat semantics (ZOOKEEPER.md §2,
// §4): czxid/mzxid/pzxid relations, version/cversion/aversion counting, null vs empty data,
// sequential names from the parent's child-create counter, every create mode, containers and
// TTL nodes, the system nodes. Runs against zooraft, or real ZooKeeper with
// ZOORAFT_TEST_TARGET=zookeeper; all expectations were checked on ZooKeeper 3.8.0 unless a
// comment says otherwise.
import test from 'ava';
import { startTarget, targetKind } from '../helpers/target.js';
import type { Target } from '../helpers/target.js';
import * as nzk from '../helpers/nzk.js';
import * as raw from './lib/raw-ops.js';
import { OpCode } from '../../wire/index.js';
import type { MultiOp, Stat } from '../../wire/index.js';

let target: Target;

test.before(async () => {
  target = await startTarget({ extendedTypes: true });
});

test.after.always(async () => {
  await target.stop();
});

function stat(s: Stat | null): Stat {
  if (s === null) throw new Error('expected a Stat');
  return s;
}

function ok<T>(r: raw.Result<T>): T {
  if (r.err !== 0 || r.res === null) throw new Error(`expected OK, got error ${r.err}`);
  return r.res;
}

test('create2 returns the Stat of a fresh node: every field at its initial value', async (t) => {
  await raw.withRaw(target, async (c) => {
    const before = Date.now();
    const r = await raw.create(c, '/crud-fresh', { data: Buffer.from('hello') });
    t.is(r.err, 0);
    const created = ok(r);
    t.is(created.path, '/crud-fresh');
    const s = stat(created.stat);
    t.is(s.czxid, r.zxid, 'reply zxid is the create txn zxid');
    t.is(s.mzxid, s.czxid);
    t.is(s.pzxid, s.czxid);
    t.is(s.ctime, s.mtime);
    t.true(Number(s.ctime) >= before - 5000 && Number(s.ctime) <= Date.now() + 5000, 'ctime is wall-clock ms');
    t.is(s.version, 0);
    t.is(s.cversion, 0);
    t.is(s.aversion, 0);
    t.is(s.ephemeralOwner, 0n);
    t.is(s.dataLength, 5);
    t.is(s.numChildren, 0);
    // getData and exists report the same Stat.
    const g = ok(await raw.getData(c, '/crud-fresh'));
    t.deepEqual(g.data, Buffer.from('hello'));
    t.deepEqual(g.stat, s);
    t.deepEqual(ok(await raw.exists(c, '/crud-fresh')), s);
  });
});

test('create (op 1) returns only the path; node-zookeeper-client sees the same node', async (t) => {
  await raw.withRaw(target, async (c) => {
    const r = await raw.create(c, '/crud-plain', { op: OpCode.create, data: Buffer.from('x') });
    t.deepEqual(ok(r), { path: '/crud-plain', stat: null });
  });
  await nzk.withClient(target.connectString, async (c) => {
    const { data, stat: s } = await nzk.getData(c, '/crud-plain');
    t.deepEqual(data, Buffer.from('x'));
    t.is(s.version, 0);
    t.is(s.dataLength, 1);
    t.is(await nzk.create(c, '/crud-plain-2', Buffer.from('y')), '/crud-plain-2');
    const s2 = await nzk.exists(c, '/crud-plain-2');
    t.not(s2, null);
    t.true(nzk.long(s2?.czxid ?? Buffer.alloc(8)) > nzk.long(s.czxid));
  });
});

test('null data stays null (length -1 on the wire); an empty buffer stays empty', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-null', { data: null }));
    ok(await raw.create(c, '/crud-empty', { data: Buffer.alloc(0) }));
    const n = ok(await raw.getData(c, '/crud-null'));
    t.is(n.data, null);
    t.is(n.stat.dataLength, 0);
    const e = ok(await raw.getData(c, '/crud-empty'));
    t.deepEqual(e.data, Buffer.alloc(0));
    t.is(e.stat.dataLength, 0);
    // setData with null data turns an existing value back into null.
    ok(await raw.setData(c, '/crud-empty', Buffer.from('abc')));
    const s = ok(await raw.setData(c, '/crud-empty', null));
    t.is(s.dataLength, 0);
    t.is(s.version, 2);
    t.is(ok(await raw.getData(c, '/crud-empty')).data, null);
  });
});

test('setData bumps version and mzxid/mtime even for identical bytes; czxid, ctime, cversion stay', async (t) => {
  await raw.withRaw(target, async (c) => {
    const s0 = stat(ok(await raw.create(c, '/crud-set', { data: Buffer.from('v0') })).stat);
    const r1 = await raw.setData(c, '/crud-set', Buffer.from('v1-longer'));
    const s1 = ok(r1);
    t.is(s1.version, 1);
    t.is(s1.mzxid, r1.zxid);
    t.true(s1.mzxid > s0.mzxid);
    t.is(s1.czxid, s0.czxid);
    t.is(s1.ctime, s0.ctime);
    t.true(s1.mtime >= s0.mtime);
    t.is(s1.dataLength, 9);
    t.is(s1.cversion, 0);
    t.is(s1.aversion, 0);
    t.is(s1.pzxid, s0.pzxid, 'setData does not move pzxid');
    const r2 = await raw.setData(c, '/crud-set', Buffer.from('v1-longer'));
    const s2 = ok(r2);
    t.is(s2.version, 2);
    t.true(s2.mzxid > s1.mzxid);
    // version-checked setData
    const s3 = ok(await raw.setData(c, '/crud-set', Buffer.from('v3'), 2));
    t.is(s3.version, 3);
    t.deepEqual(ok(await raw.getData(c, '/crud-set')).data, Buffer.from('v3'));
  });
});

test('parent cversion counts child creates and deletes; pzxid follows; child setData changes nothing', async (t) => {
  await raw.withRaw(target, async (c) => {
    const p0 = stat(ok(await raw.create(c, '/crud-par')).stat);
    const a = await raw.create(c, '/crud-par/a');
    const p1 = ok(await raw.exists(c, '/crud-par'));
    t.is(p1.cversion, 1);
    t.is(p1.numChildren, 1);
    t.is(p1.pzxid, a.zxid);
    t.is(p1.mzxid, p0.mzxid, 'a child create does not touch the parent mzxid');
    t.is(p1.version, 0);
    const b = await raw.create(c, '/crud-par/b');
    const p2 = ok(await raw.exists(c, '/crud-par'));
    t.is(p2.cversion, 2);
    t.is(p2.numChildren, 2);
    t.is(p2.pzxid, b.zxid);
    await raw.setData(c, '/crud-par/a', Buffer.from('changed'));
    t.deepEqual(ok(await raw.exists(c, '/crud-par')), p2, 'child setData leaves the parent Stat alone');
    const d = await raw.remove(c, '/crud-par/a');
    t.is(d.err, 0);
    const p3 = ok(await raw.exists(c, '/crud-par'));
    t.is(p3.cversion, 3);
    t.is(p3.numChildren, 1);
    t.is(p3.pzxid, d.zxid);
    t.is(p3.mzxid, p0.mzxid);
    const children = ok(await raw.getChildren2(c, '/crud-par'));
    t.deepEqual(children.children, ['b']);
    t.deepEqual(children.stat, p3);
  });
});

test('getChildren lists every child once (order unspecified)', async (t) => {
  await nzk.withClient(target.connectString, async (c) => {
    await nzk.create(c, '/crud-kids');
    const names = ['x', 'y', 'z', 'a', 'b', 'c', 'm'];
    for (const n of names) await nzk.create(c, `/crud-kids/${n}`, Buffer.from(n));
    const { children, stat: s } = await nzk.getChildren(c, '/crud-kids');
    t.deepEqual([...children].sort(), [...names].sort());
    t.is(s.numChildren, names.length);
    t.is(s.cversion, names.length);
  });
  await raw.withRaw(target, async (c) => {
    t.deepEqual(ok(await raw.getChildren(c, '/crud-kids')).sort(), ['a', 'b', 'c', 'm', 'x', 'y', 'z']);
    t.deepEqual(ok(await raw.getChildren(c, '/crud-kids/x')), []);
  });
});

test('sequential names use %010d of the parent child-create counter, which deletes do not reset', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-seq'));
    ok(await raw.create(c, '/crud-seq/plain'));
    t.is(ok(await raw.create(c, '/crud-seq/n-', { flags: 2 })).path, '/crud-seq/n-0000000001');
    t.is(ok(await raw.create(c, '/crud-seq/n-', { flags: 2 })).path, '/crud-seq/n-0000000002');
    t.is((await raw.remove(c, '/crud-seq/plain')).err, 0);
    t.is((await raw.remove(c, '/crud-seq/n-0000000001')).err, 0);
    t.is(ok(await raw.create(c, '/crud-seq/e-', { flags: 3 })).path, '/crud-seq/e-0000000003');
    // A sequential create may name the parent itself with a trailing slash.
    t.is(ok(await raw.create(c, '/crud-seq/', { flags: 2 })).path, '/crud-seq/0000000004');
    const s = ok(await raw.exists(c, '/crud-seq'));
    t.is(s.numChildren, 3);
    t.is(s.cversion, 7, '5 creates + 2 deletes');
  });
  await nzk.withClient(target.connectString, async (c) => {
    t.is(await nzk.create(c, '/crud-seq/q', null, nzk.zookeeper.CreateMode.PERSISTENT_SEQUENTIAL), '/crud-seq/q0000000005');
  });
});

test('create modes: persistent, ephemeral, sequential variants, flag 4 via create2, containers', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-modes'));
    const p = stat(ok(await raw.create(c, '/crud-modes/p', { flags: 0 })).stat);
    t.is(p.ephemeralOwner, 0n);
    const e = stat(ok(await raw.create(c, '/crud-modes/e', { flags: 1 })).stat);
    t.is(e.ephemeralOwner, c.sessionId);
    const ps = ok(await raw.create(c, '/crud-modes/ps-', { flags: 2 }));
    t.is(ps.path, '/crud-modes/ps-0000000002');
    t.is(stat(ps.stat).ephemeralOwner, 0n);
    const es = ok(await raw.create(c, '/crud-modes/es-', { flags: 3 }));
    t.is(es.path, '/crud-modes/es-0000000003');
    t.is(stat(es.stat).ephemeralOwner, c.sessionId);
    // Flag 4 (CONTAINER) through create2 is accepted and stored as a plain persistent node.
    const f4 = ok(await raw.create(c, '/crud-modes/f4', { flags: 4 }));
    t.is(stat(f4.stat).ephemeralOwner, 0n);
    // createContainer (19), with flag 4 or 0: ephemeralOwner still reported as 0.
    const k = ok(await raw.create(c, '/crud-modes/k', { op: OpCode.createContainer, flags: 4 }));
    t.is(k.path, '/crud-modes/k');
    t.is(stat(k.stat).ephemeralOwner, 0n);
    const k0 = ok(await raw.create(c, '/crud-modes/k0', { op: OpCode.createContainer, flags: 0 }));
    t.is(stat(k0.stat).ephemeralOwner, 0n);
    ok(await raw.create(c, '/crud-modes/k/child'));
    t.is(ok(await raw.exists(c, '/crud-modes/k')).numChildren, 1);
    t.deepEqual(ok(await raw.getEphemerals(c, '/crud-modes')).sort(), ['/crud-modes/e', '/crud-modes/es-0000000003']);
  });
  // The ephemerals went with the session.
  await raw.withRaw(target, async (c) => {
    t.deepEqual(ok(await raw.getChildren(c, '/crud-modes')).sort(), ['f4', 'k', 'k0', 'p', 'ps-0000000002']);
  });
});

test('node-zookeeper-client create modes: ephemeral owner is its session id', async (t) => {
  await nzk.withClient(target.connectString, async (c) => {
    const { CreateMode } = nzk.zookeeper;
    await nzk.create(c, '/crud-nmodes');
    t.is(await nzk.create(c, '/crud-nmodes/e', Buffer.from('e'), CreateMode.EPHEMERAL), '/crud-nmodes/e');
    t.is(await nzk.create(c, '/crud-nmodes/es', null, CreateMode.EPHEMERAL_SEQUENTIAL), '/crud-nmodes/es0000000001');
    const s = await nzk.exists(c, '/crud-nmodes/e');
    t.is(nzk.long(s?.ephemeralOwner ?? Buffer.alloc(8)), nzk.sessionIdOf(c));
  });
  await nzk.withClient(target.connectString, async (c) => {
    t.deepEqual((await nzk.getChildren(c, '/crud-nmodes')).children, []);
  });
});

test('TTL nodes (createTTL 21, flags 5 and 6) with extendedTypesEnabled report ephemeralOwner 0', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-ttl'));
    const a = ok(await raw.create(c, '/crud-ttl/a', { op: OpCode.createTTL, flags: 5, ttl: 60000n, data: Buffer.from('t') }));
    t.is(a.path, '/crud-ttl/a');
    const s = stat(a.stat);
    t.is(s.ephemeralOwner, 0n);
    t.is(s.dataLength, 1);
    const b = ok(await raw.create(c, '/crud-ttl/b-', { op: OpCode.createTTL, flags: 6, ttl: 60000n }));
    t.is(b.path, '/crud-ttl/b-0000000001');
    t.is(stat(b.stat).ephemeralOwner, 0n);
    t.deepEqual(ok(await raw.getData(c, '/crud-ttl/a')).stat, s);
    // With extended types on, a TTL flag through create2 or a non-TTL flag through createTTL
    // is BadArguments, and so is a TTL outside 1..2^40-1.
    t.is((await raw.create(c, '/crud-ttl/c', { flags: 5 })).err, -8);
    t.is((await raw.create(c, '/crud-ttl/c', { op: OpCode.createTTL, flags: 0, ttl: 1000n })).err, -8);
    t.is((await raw.create(c, '/crud-ttl/c', { op: OpCode.createTTL, flags: 5, ttl: 0n })).err, -8);
    t.is((await raw.create(c, '/crud-ttl/c', { op: OpCode.createTTL, flags: 5, ttl: -1n })).err, -8);
    t.is((await raw.create(c, '/crud-ttl/c', { op: OpCode.createTTL, flags: 5, ttl: 2n ** 40n })).err, -8);
    t.is((await raw.create(c, '/crud-ttl/c', { op: OpCode.createTTL, flags: 5, ttl: 2n ** 40n - 1n })).err, 0);
  });
});

test('setACL bumps aversion only; getACL returns the list and the Stat', async (t) => {
  await raw.withRaw(target, async (c) => {
    const s0 = stat(ok(await raw.create(c, '/crud-acl', { data: Buffer.from('a') })).stat);
    const g0 = ok(await raw.getACL(c, '/crud-acl'));
    t.deepEqual(g0.acl, raw.OPEN_ACL);
    t.deepEqual(g0.stat, s0);
    const newAcl = [
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
      { perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } },
    ];
    const s1 = ok(await raw.setACL(c, '/crud-acl', newAcl, 0));
    t.is(s1.aversion, 1);
    t.is(s1.version, 0);
    t.is(s1.mzxid, s0.mzxid, 'setACL does not change mzxid');
    t.is(s1.mtime, s0.mtime);
    const g1 = ok(await raw.getACL(c, '/crud-acl'));
    t.deepEqual(g1.acl, newAcl);
    t.deepEqual(g1.stat, s1);
  });
  await nzk.withClient(target.connectString, async (c) => {
    const { acls, stat: s } = await nzk.getACL(c, '/crud-acl');
    t.is(acls.length, 2);
    t.is(acls[0]?.permission, 1);
    t.is(acls[0]?.id.scheme, 'world');
    t.is(s.aversion, 1);
    const s2 = await nzk.setACL(c, '/crud-acl', nzk.zookeeper.ACL.OPEN_ACL_UNSAFE, 1);
    t.is(s2.aversion, 2);
  });
});

test('delete removes the node; version-checked delete works', async (t) => {
  await nzk.withClient(target.connectString, async (c) => {
    await nzk.create(c, '/crud-del', Buffer.from('d'));
    await nzk.setData(c, '/crud-del', Buffer.from('d2'));
    await nzk.remove(c, '/crud-del', 1);
    t.is(await nzk.exists(c, '/crud-del'), null);
    await nzk.create(c, '/crud-del2');
    await nzk.remove(c, '/crud-del2');
    t.is(await nzk.exists(c, '/crud-del2'), null);
  });
});

test('sync returns the path, even for a node that does not exist', async (t) => {
  await raw.withRaw(target, async (c) => {
    const r = await raw.sync(c, '/crud-nowhere');
    t.is(r.err, 0);
    t.is(r.res, '/crud-nowhere');
    t.is(ok(await raw.sync(c, '/')), '/');
  });
});

test('multi commits every op in one zxid and returns each op’s own result type', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-multi', { data: Buffer.from('m') }));
    const ops: MultiOp[] = [
      { type: OpCode.create, req: { path: '/crud-multi/a', data: Buffer.from('a'), acl: raw.OPEN_ACL, flags: 0 } },
      { type: OpCode.create, req: { path: '/crud-multi/a/b', data: null, acl: raw.OPEN_ACL, flags: 0 } },
      { type: OpCode.setData, req: { path: '/crud-multi', data: Buffer.from('m2'), version: 0 } },
      { type: OpCode.check, req: { path: '/crud-multi/a', version: 0 } },
      { type: OpCode.create, req: { path: '/crud-multi/s-', data: null, acl: raw.OPEN_ACL, flags: 2 } },
      { type: OpCode.delete, req: { path: '/crud-multi/s-0000000001', version: -1 } },
    ];
    const r = await raw.multi(c, ops);
    t.is(r.err, 0);
    const results = ok(r);
    t.is(results.length, 6);
    t.deepEqual(results[0], { type: OpCode.create, path: '/crud-multi/a' });
    t.deepEqual(results[1], { type: OpCode.create, path: '/crud-multi/a/b' });
    const setRes = results[2];
    t.is(setRes?.type, OpCode.setData);
    if (setRes?.type === OpCode.setData) {
      t.is(setRes.stat.version, 1);
      t.is(setRes.stat.mzxid, r.zxid);
      t.is(setRes.stat.cversion, 1, 'the setData result sees the earlier create of the same multi');
    }
    t.deepEqual(results[3], { type: OpCode.check });
    t.deepEqual(results[4], { type: OpCode.create, path: '/crud-multi/s-0000000001' });
    t.deepEqual(results[5], { type: OpCode.delete });
    const a = ok(await raw.exists(c, '/crud-multi/a'));
    const b = ok(await raw.exists(c, '/crud-multi/a/b'));
    t.is(a.czxid, r.zxid);
    t.is(b.czxid, r.zxid, 'one zxid for the whole multi');
    t.is(ok(await raw.getData(c, '/crud-multi/a/b')).data, null);
  });
});

test('multi create2 result: type 15 with a Stat (3.8.2+); ZooKeeper 3.8.0 degrades it to type 1', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-multi2'));
    const r = await raw.multi(c, [{ type: OpCode.create2, req: { path: '/crud-multi2/x', data: Buffer.from('x'), acl: raw.OPEN_ACL, flags: 0 } }]);
    const res = ok(r)[0];
    if (targetKind === 'zookeeper') {
      // ZOOKEEPER-4026: 3.8.0 (our oracle) answers with a plain create result.
      t.deepEqual(res, { type: OpCode.create, path: '/crud-multi2/x' });
    } else {
      // Not confirmable on 3.8.0: the fixed behaviour of 3.8.2+/3.9 (ZOOKEEPER.md §3.2).
      t.is(res?.type, OpCode.create2);
      if (res?.type === OpCode.create2) {
        t.is(res.path, '/crud-multi2/x');
        t.is(res.stat.czxid, r.zxid);
        t.is(res.stat.dataLength, 1);
      }
    }
  });
});

test('empty multi succeeds with an empty result list', async (t) => {
  await raw.withRaw(target, async (c) => {
    const r = await raw.multi(c, []);
    t.is(r.err, 0);
    t.deepEqual(r.res, []);
  });
});

test('node-zookeeper-client transaction commits atomically', async (t) => {
  await nzk.withClient(target.connectString, async (c) => {
    await nzk.create(c, '/crud-txn', Buffer.from('0'));
    const r = await nzk.multi(c, [
      { op: 'create', path: '/crud-txn/a', data: Buffer.from('a') },
      { op: 'setData', path: '/crud-txn', data: Buffer.from('1'), version: 0 },
      { op: 'check', path: '/crud-txn/a', version: 0 },
    ]);
    t.is(r.error, 0);
    t.deepEqual(
      r.results.map((x) => x.type),
      [OpCode.create, OpCode.setData, OpCode.check],
    );
    t.is(r.results[0]?.path, '/crud-txn/a');
    t.is(r.results[1]?.stat?.version, 1);
    t.deepEqual((await nzk.getData(c, '/crud-txn')).data, Buffer.from('1'));
  });
});

test('multiRead answers each getData/getChildren independently, failures as error results', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-mr', { data: Buffer.from('root') }));
    ok(await raw.create(c, '/crud-mr/k1'));
    const r = await raw.multiRead(c, [
      { type: OpCode.getData, req: { path: '/crud-mr', watch: false } },
      { type: OpCode.getChildren, req: { path: '/crud-mr', watch: false } },
      { type: OpCode.getData, req: { path: '/crud-mr/missing', watch: false } },
      { type: OpCode.getChildren, req: { path: '/crud-mr/k1', watch: false } },
    ]);
    t.is(r.err, 0);
    const res = ok(r);
    t.is(res.length, 4);
    const g = res[0];
    t.is(g?.type, OpCode.getData);
    if (g?.type === OpCode.getData) {
      t.deepEqual(g.data, Buffer.from('root'));
      t.is(g.stat.numChildren, 1);
    }
    t.deepEqual(res[1], { type: OpCode.getChildren, children: ['k1'] });
    t.deepEqual(res[2], { type: OpCode.error, err: -101 });
    t.deepEqual(res[3], { type: OpCode.getChildren, children: [] });
  });
});

test('getEphemerals lists the caller’s own ephemerals by prefix', async (t) => {
  await raw.withRaw(target, async (other) => {
    ok(await raw.create(other, '/crud-eph-other', { flags: 1 }));
    await raw.withRaw(target, async (c) => {
      ok(await raw.create(c, '/crud-eph'));
      ok(await raw.create(c, '/crud-eph/a', { flags: 1 }));
      ok(await raw.create(c, '/crud-eph/b', { flags: 3 }));
      ok(await raw.create(c, '/crud-eph-x', { flags: 1 }));
      t.deepEqual(ok(await raw.getEphemerals(c, '/crud-eph/')).sort(), ['/crud-eph/a', '/crud-eph/b0000000001']);
      t.deepEqual(ok(await raw.getEphemerals(c, '/crud-eph')).sort(), ['/crud-eph-x', '/crud-eph/a', '/crud-eph/b0000000001']);
      t.deepEqual(ok(await raw.getEphemerals(c, '/')).sort(), ['/crud-eph-x', '/crud-eph/a', '/crud-eph/b0000000001']);
      t.deepEqual(ok(await raw.getEphemerals(c, '/nothing-here')), []);
    });
    t.deepEqual(ok(await raw.getEphemerals(other, '/')), ['/crud-eph-other']);
  });
});

test('getAllChildrenNumber counts all descendants, not the node itself', async (t) => {
  await raw.withRaw(target, async (c) => {
    ok(await raw.create(c, '/crud-count'));
    for (const p of ['/crud-count/a', '/crud-count/a/b', '/crud-count/a/b/c', '/crud-count/d']) ok(await raw.create(c, p));
    t.is(ok(await raw.getAllChildrenNumber(c, '/crud-count')), 4);
    t.is(ok(await raw.getAllChildrenNumber(c, '/crud-count/a')), 2);
    t.is(ok(await raw.getAllChildrenNumber(c, '/crud-count/d')), 0);
  });
});

test('system nodes: /zookeeper, /zookeeper/quota, /zookeeper/config (world READ, empty data)', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.true(ok(await raw.getChildren(c, '/')).includes('zookeeper'));
    t.deepEqual(ok(await raw.getChildren(c, '/zookeeper')).sort(), ['config', 'quota']);
    const quota = ok(await raw.getData(c, '/zookeeper/quota'));
    t.is(quota.stat.ephemeralOwner, 0n);
    t.deepEqual(ok(await raw.getChildren(c, '/zookeeper/quota')), []);
    // System nodes predate every txn: zero zxids and times, empty (not null) data.
    const zero = { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, ephemeralOwner: 0n, dataLength: 0, pzxid: 0n };
    t.like(quota.stat, { ...zero, cversion: 0, aversion: 0, numChildren: 0 });
    t.deepEqual(quota.data, Buffer.alloc(0));
    const zk = ok(await raw.getData(c, '/zookeeper'));
    // cversion -2 on a fresh server: the client-visible cversion is 2*creates - children and
    // the two system children were never "created" (ZOOKEEPER.md §4.1).
    t.like(zk.stat, { ...zero, cversion: -2, aversion: 0, numChildren: 2 });
    t.deepEqual(zk.data, Buffer.alloc(0));
    const cfg = ok(await raw.getData(c, '/zookeeper/config'));
    t.like(cfg.stat, { ...zero, cversion: 0, aversion: -1, numChildren: 0 });
    t.deepEqual(cfg.data, Buffer.alloc(0));
    const root = ok(await raw.getData(c, '/'));
    t.like(root.stat, { czxid: 0n, ctime: 0n, ephemeralOwner: 0n, version: 0, aversion: 0 });
    t.deepEqual(root.data, Buffer.alloc(0));
    const acl = ok(await raw.getACL(c, '/zookeeper/config'));
    t.deepEqual(acl.acl, raw.READ_ACL);
    t.deepEqual(ok(await raw.getACL(c, '/zookeeper')).acl, raw.OPEN_ACL);
    // Creating under /zookeeper is allowed.
    t.is((await raw.create(c, '/zookeeper/crud-user-node')).err, 0);
    t.is((await raw.remove(c, '/zookeeper/crud-user-node')).err, 0);
  });
});

test('sasl (102) without SASL configured answers OK with a null token and zxid 0', async (t) => {
  await raw.withRaw(target, async (c) => {
    const r = await c.request(OpCode.sasl, (w) => w.writeBuffer(Buffer.from('token')));
    t.is(r.err, 0);
    t.is(r.zxid, 0n);
    t.deepEqual(r.body, Buffer.from([0xff, 0xff, 0xff, 0xff]), 'SetSASLResponse{token: null}');
  });
});

// zooraft sends values from 64 KiB on as a separate socket chunk (no reply buffer per read):
// the bytes, the Stat and the order of pipelined replies must be exactly as for small values.
test('large values around the split size come back byte for byte, pipelined replies in order', async (t) => {
  const sizes = [65535, 65536, 300 * 1024];
  const values = sizes.map((n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff)));
  await raw.withRaw(target, async (c) => {
    for (const [i, v] of values.entries()) t.is((await raw.create(c, `/crud-large-${i}`, { data: v })).err, 0);
    // Pipelined: large, small, large, missing, large, all sent before any reply is read.
    const replies = await Promise.all([
      raw.getData(c, '/crud-large-2'),
      raw.exists(c, '/crud-large-0'),
      raw.getData(c, '/crud-large-1'),
      raw.getData(c, '/crud-large-missing'),
      raw.getData(c, '/crud-large-0'),
    ]);
    const [big2, small, big1, missing, big0] = replies;
    t.deepEqual(ok(big2!).data, values[2]);
    t.is(ok(big2!).stat.dataLength, sizes[2]!);
    t.is(ok(small!).dataLength, sizes[0]!);
    t.deepEqual(ok(big1!).data, values[1]);
    t.is(missing!.err, -101);
    t.deepEqual(ok(big0!).data, values[0]);
    t.deepEqual(ok(big0!).stat, ok(small!));
    // Reply zxids never go backwards in one session.
    const zxids = replies.map((r) => r!.zxid);
    for (let i = 1; i < zxids.length; i++) t.true(zxids[i]! >= zxids[i - 1]!);
  });
  await nzk.withClient(target.connectString, async (c) => {
    const { data, stat: s } = await nzk.getData(c, '/crud-large-2');
    t.deepEqual(data, values[2]);
    t.is(s.dataLength, sizes[2]!);
  });
});
