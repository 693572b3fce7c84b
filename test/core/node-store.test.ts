// The compact node store against a plain model: random creates, deletes and value changes
// (names in and out of ASCII, values null, empty, inline and large) through DataTree.apply,
// with snapshots opened and closed in between. Every snapshot must decode to exactly the tree
// as it was when it began, lookups must agree with the model at the end, and the arena must
// give back space once values are rewritten many times over.
import test from 'ava';
import { JuteWriter, OpCode } from '../../wire/index.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from '../../src/core/acl.js';
import { DataTree, statOf } from '../../src/core/tree.js';
import { decodeSnapshot, encodeNodes, encodeSnapshotEnd, encodeSnapshotHeader } from '../../src/core/snapshot-codec.js';
import { NodeKind, TxnType } from '../../src/core/txn.js';
import type { Txn } from '../../src/core/txn.js';
import { INLINE_DATA_MAX } from '../../src/core/node-store.js';
import type { ArenaOptions, NodeFields } from '../../src/core/node-store.js';
import { mulberry32 } from '../../src/platform/prng.js';

class Driver {
  readonly tree: DataTree;
  constructor(arena: ArenaOptions = {}) {
    this.tree = new DataTree(arena);
  }
  zxid = 0;
  apply(txn: Txn, timeMs = this.zxid + 1): void {
    this.zxid++;
    this.tree.apply({ header: { sessionId: 0n, cxid: 0, zxid: this.zxid, timeMs }, txn });
  }
  create(path: string, data: string | null, kind: (typeof NodeKind)[keyof typeof NodeKind] = NodeKind.persistent, owner = 0n): void {
    this.apply({ type: TxnType.create, opcode: OpCode.create2, path, data, acl: [...OPEN_ACL_UNSAFE], kind, ephemeralOwner: owner, ttlMs: kind === NodeKind.ttl ? 5000 : 0 });
  }
}

/** Every node: path, value, stat, ACL and children, sorted by path. */
function dump(tree: DataTree): string[] {
  return [...tree.entries()]
    .map(([p, n]) => {
      const stat = JSON.stringify(statOf(n), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      return `${p} ${n.data?.toString('hex') ?? 'null'} ${stat} ${JSON.stringify(n.acl)} [${n.childNames().sort().join(',')}] ${n.ttlMs}`;
    })
    .sort();
}

function snapshotBytes(tree: DataTree, frozen: ReturnType<DataTree['beginSnapshot']>, chunk: number): Buffer {
  const parts = [encodeSnapshotHeader(frozen.zxid, frozen.sessions)];
  for (;;) {
    const w = new JuteWriter();
    if (encodeNodes(w, frozen.view, chunk) === 0) break;
    parts.push(w.toBuffer());
  }
  parts.push(encodeSnapshotEnd());
  return Buffer.concat(parts);
}

function restore(bytes: Buffer): DataTree {
  const decoded = decodeSnapshot(bytes);
  const t = new DataTree();
  t.load(decoded.zxid, decoded.nodes, decoded.sessions);
  return t;
}

/** What a node's stat must read, kept beside the tree. */
type ModelStat = Pick<NodeFields, 'czxid' | 'mzxid' | 'pzxid' | 'ctime' | 'mtime' | 'version' | 'childCreates' | 'aversion'> & { numChildren: number };

function parentPath(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut === 0 ? '/' : path.slice(0, cut);
}

function statNow(d: Driver, path: string): ModelStat | undefined {
  const n = d.tree.get(path);
  if (n === undefined) return undefined;
  return { czxid: n.czxid, mzxid: n.mzxid, pzxid: n.pzxid, ctime: n.ctime, mtime: n.mtime, version: n.version, childCreates: n.childCreates, aversion: n.aversion, numChildren: n.numChildren };
}

const NAMES = ['a', 'b', 'node-7', 'zä', 'ключ', '日本', 'x'.repeat(40), 'c-1', 'c-2'];

function randomValue(rnd: () => number): string | null {
  const r = rnd();
  if (r < 0.1) return null;
  if (r < 0.2) return '';
  if (r < 0.95) return String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256)));
  return 'L'.repeat(INLINE_DATA_MAX + 1 + Math.floor(rnd() * 10000));
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`random changes with snapshots open in between (seed ${seed}): every snapshot is the tree as it began`, (t) => {
    const rnd = mulberry32(seed);
    // Small chunks and no slack: the arena compacts at nearly every chunk it fills, and
    // values over a quarter chunk get chunks of their own.
    const d = new Driver({ chunkBytes: 16384, slackBytes: 0 });
    const paths: string[] = ['/'];
    const model = new Map<string, ModelStat>([['/', statNow(d, '/') as ModelStat]]);
    let open: { frozen: ReturnType<DataTree['beginSnapshot']>; expected: string[] } | null = null;
    let snapshots = 0;
    for (let step = 0; step < 3000; step++) {
      const r = rnd();
      if (r < 0.45 || paths.length < 5) {
        const parent = paths[Math.floor(rnd() * paths.length)] as string;
        const name = `${NAMES[Math.floor(rnd() * NAMES.length)] as string}${Math.floor(rnd() * 50)}`;
        const path = parent === '/' ? `/${name}` : `${parent}/${name}`;
        if (d.tree.get(path) !== undefined || path.startsWith('/zookeeper')) continue;
        d.create(path, randomValue(rnd));
        paths.push(path);
        const z = d.zxid;
        model.set(path, { czxid: z, mzxid: z, pzxid: z, ctime: z, mtime: z, version: 0, childCreates: 0, aversion: 0, numChildren: 0 });
        const up = model.get(parent) as ModelStat;
        up.childCreates++;
        up.numChildren++;
        up.pzxid = z;
      } else if (r < 0.7) {
        const i = 1 + Math.floor(rnd() * (paths.length - 1));
        const path = paths[i] as string;
        if ((d.tree.get(path)?.numChildren ?? 1) > 0) continue;
        d.apply({ type: TxnType.delete, path });
        paths.splice(i, 1);
        model.delete(path);
        const up = model.get(parentPath(path)) as ModelStat;
        up.numChildren--;
        up.pzxid = d.zxid;
      } else if (r < 0.95) {
        const path = paths[Math.floor(rnd() * paths.length)] as string;
        d.apply({ type: TxnType.setData, path, data: randomValue(rnd) });
        const m = model.get(path) as ModelStat;
        m.version++;
        m.mzxid = d.zxid;
        m.mtime = d.zxid;
      } else if (r < 0.97) {
        const path = paths[Math.floor(rnd() * paths.length)] as string;
        d.apply({ type: TxnType.setACL, path, acl: rnd() < 0.5 ? [...READ_ACL_UNSAFE] : [...OPEN_ACL_UNSAFE] });
        (model.get(path) as ModelStat).aversion++;
      } else if (open === null) {
        open = { frozen: d.tree.beginSnapshot(), expected: dump(d.tree) };
      } else {
        const bytes = snapshotBytes(d.tree, open.frozen, 1 + Math.floor(rnd() * 20));
        open.frozen.end();
        t.deepEqual(dump(restore(bytes)), open.expected, `snapshot ${snapshots} at step ${step}`);
        snapshots++;
        open = null;
      }
    }
    open?.frozen.end();
    t.true(snapshots > 5, `${snapshots} snapshots checked`);
    t.true(d.tree.store.stats().evacuations > 10, JSON.stringify(d.tree.store.stats()));
    // The live tree itself round-trips, and every path the model holds is found.
    const frozen = d.tree.beginSnapshot();
    const bytes = snapshotBytes(d.tree, frozen, 1000);
    frozen.end();
    t.deepEqual(dump(restore(bytes)), dump(d.tree));
    t.is(d.tree.nodeCount, paths.length + 3, 'the model paths plus the three /zookeeper nodes');
    for (const p of paths) t.deepEqual(statNow(d, p), model.get(p), p);
    t.is(d.tree.get('/nope/x'), undefined);
  });
}

test('the path index grows over freed and reused ids and while a snapshot is open: every live path is found, no deleted one', (t) => {
  const d = new Driver();
  const live = new Set<string>();
  const create = (path: string): void => {
    d.create(path, path);
    live.add(path);
  };
  const remove = (path: string): void => {
    d.apply({ type: TxnType.delete, path });
    live.delete(path);
  };
  // Past 1,024 nodes (the first growth), then holes in the ids.
  for (let i = 0; i < 1500; i++) create(`/a${i}`);
  for (let i = 0; i < 1500; i += 3) remove(`/a${i}`);
  // Growth while a snapshot is open: new ids come from the top, the freed ones wait.
  const frozen = d.tree.beginSnapshot();
  create('/b');
  for (let i = 0; i < 3000; i++) create(`/b/c${i}`);
  for (let i = 0; i < 3000; i += 2) remove(`/b/c${i}`);
  frozen.end();
  // Growth again, now reusing the freed ids.
  for (let i = 0; i < 6000; i++) create(live.has(`/a${i}`) ? `/a${i}/x` : `/d${i}`);
  t.is(d.tree.nodeCount, live.size + 4, 'the live paths plus / and the three /zookeeper nodes');
  for (const path of live) t.is(d.tree.get(path)?.dataLatin1, path, path);
  for (let i = 0; i < 1500; i += 3) t.is(d.tree.get(`/a${i}`), undefined);
  for (let i = 0; i < 3000; i += 2) t.is(d.tree.get(`/b/c${i}`), undefined);
  // Misses walk whole bucket chains: enough of them to reach every bucket of the last growth.
  let found = 0;
  for (let k = 0; k < 100_000; k++) if (d.tree.get(`/missing${k}`) !== undefined) found++;
  t.is(found, 0);
});

test('ctime and mtime keep every safe integer exactly', (t) => {
  const d = new Driver();
  const times = [0, 1, 2 ** 30 - 1, 2 ** 31, 1_795_319_408_420, Number.MAX_SAFE_INTEGER, -1, Number.MIN_SAFE_INTEGER];
  times.forEach((ms, i) => {
    d.apply({ type: TxnType.create, opcode: OpCode.create2, path: `/t${i}`, data: 'x', acl: [...OPEN_ACL_UNSAFE], kind: NodeKind.persistent, ephemeralOwner: 0n, ttlMs: 0 }, ms);
    const later = ms > 0 ? ms - 12345 : ms + 12345;
    d.apply({ type: TxnType.setData, path: `/t${i}`, data: 'y' }, later);
    const node = d.tree.get(`/t${i}`);
    t.is(node?.ctime, ms);
    t.is(node?.mtime, later);
  });
});

test('rewriting values many times over gives the arena space back', (t) => {
  const d = new Driver();
  for (let i = 0; i < 100; i++) d.create(`/v${i}`, 'x'.repeat(2000));
  for (let round = 0; round < 300; round++) for (let i = 0; i < 100; i++) d.apply({ type: TxnType.setData, path: `/v${i}`, data: String.fromCharCode(65 + (round % 26)).repeat(2000) });
  const stats = d.tree.store.stats();
  // 60 MB were written; what is kept stays within the compaction bound (half again the live
  // bytes plus 8 MiB of slack) plus the chunk being filled.
  t.true(stats.arenaCapacityBytes <= stats.arenaLiveBytes * 1.5 + 10 * 2 ** 20, JSON.stringify(stats));
  for (let i = 0; i < 100; i++) t.is(d.tree.get(`/v${i}`)?.dataLatin1, String.fromCharCode(65 + (299 % 26)).repeat(2000));
});

test('ephemeral, container and TTL nodes keep their kind and owner through a snapshot', (t) => {
  const d = new Driver();
  d.create('/e', 'x', NodeKind.ephemeral, 0x1234n);
  d.create('/c', null, NodeKind.container);
  d.create('/ttl', 'y', NodeKind.ttl);
  const frozen = d.tree.beginSnapshot();
  const bytes = snapshotBytes(d.tree, frozen, 2);
  frozen.end();
  const back = restore(bytes);
  t.deepEqual(dump(back), dump(d.tree));
  t.is(back.get('/e')?.ephemeralOwner, 0x1234n);
  t.deepEqual([...(back.ephemerals.get(0x1234n) ?? [])], ['/e']);
  t.deepEqual([...back.containers], ['/c']);
  t.deepEqual([...back.ttls], ['/ttl']);
  t.is(back.get('/ttl')?.ttlMs, 5000);
  t.is(back.get('/c')?.visibleOwner, 0n);
});

test('children are listed in creation order, and a deleted name can be created again', (t) => {
  const d = new Driver();
  d.create('/p', null);
  for (const n of ['c', 'a', 'b', 'd']) d.create(`/p/${n}`, n);
  d.apply({ type: TxnType.delete, path: '/p/c' });
  d.apply({ type: TxnType.delete, path: '/p/d' });
  d.create('/p/c', 'again');
  t.deepEqual(d.tree.get('/p')?.childNames(), ['a', 'b', 'c']);
  t.is(d.tree.get('/p/c')?.dataLatin1, 'again');
  t.is(d.tree.get('/p/d'), undefined);
  t.is(d.tree.get('/p/')?.id, undefined);
  t.is(d.tree.get('/p//a'), undefined);
  t.is(d.tree.countDescendants('/'), 3 + 1 + 3);
});

test('a lookup never finds a node through a parent that was deleted and whose id was reused', (t) => {
  const d = new Driver();
  d.create('/a', null);
  d.create('/a/x', 'ax');
  t.is(d.tree.get('/a/x')?.dataLatin1, 'ax');
  d.apply({ type: TxnType.delete, path: '/a/x' });
  d.apply({ type: TxnType.delete, path: '/a' });
  d.create('/b', null);
  d.create('/b/x', 'bx');
  t.is(d.tree.get('/a/x'), undefined);
  t.is(d.tree.get('/a'), undefined);
  t.is(d.tree.get('/b/x')?.dataLatin1, 'bx');
  t.is(d.tree.get('/c/x'), undefined);
  t.is(d.tree.get('/b/x')?.dataLatin1, 'bx');
});

test('a node gets an extra slot only once it changes or has children, and gives it back when deleted', (t) => {
  const d = new Driver();
  const base = d.tree.store.stats().extraSlots;
  d.create('/p', null);
  for (let i = 0; i < 1000; i++) d.create(`/p/c-${i}`, 'v');
  t.is(d.tree.store.stats().extraSlots, base + 1, 'the parent only');
  const created = d.tree.get('/p/c-7');
  t.is(created?.mzxid, created?.czxid);
  t.is(created?.pzxid, created?.czxid);
  t.is(created?.mtime, created?.ctime);
  d.apply({ type: TxnType.setData, path: '/p/c-7', data: 'w' });
  d.apply({ type: TxnType.setACL, path: '/p/c-8', acl: [...READ_ACL_UNSAFE] });
  d.create('/p/c-9/child', null);
  t.is(d.tree.store.stats().extraSlots, base + 4);
  t.is(d.tree.get('/p/c-7')?.version, 1);
  t.is(d.tree.get('/p/c-7')?.mzxid, d.zxid - 2);
  t.is(d.tree.get('/p/c-9')?.pzxid, d.zxid);
  t.is(d.tree.get('/p/c-9')?.mzxid, d.tree.get('/p/c-9')?.czxid);
  for (const path of ['/p/c-9/child', '/p/c-9', '/p/c-8', '/p/c-7']) d.apply({ type: TxnType.delete, path });
  t.is(d.tree.store.stats().extraSlots, base + 1);
  // A freed slot is handed to the next node that needs one with the values it reads as.
  d.create('/p/c-1/under', null);
  t.is(d.tree.get('/p/c-1')?.version, 0);
  t.is(d.tree.get('/p/c-1')?.numChildren, 1);
  t.is(d.tree.get('/p/c-1')?.mtime, d.tree.get('/p/c-1')?.ctime);
});

test('names of 65,535 bytes and more (a longer record header) survive value changes, compaction and a snapshot', (t) => {
  const d = new Driver({ chunkBytes: 16384, slackBytes: 0 });
  const names = ['a'.repeat(65534), 'b'.repeat(65535), 'c'.repeat(70000), 'ü'.repeat(33000)];
  d.create('/p', null);
  for (const [i, name] of names.entries()) d.create(`/p/${name}`, `v${i}`);
  for (let round = 0; round < 20; round++) for (const name of names) d.apply({ type: TxnType.setData, path: `/p/${name}`, data: 'x'.repeat(100 + round) });
  for (const name of names) {
    t.is(d.tree.get(`/p/${name}`)?.dataLatin1, 'x'.repeat(119));
  }
  t.deepEqual(d.tree.get('/p')?.childNames(), names);
  const frozen = d.tree.beginSnapshot();
  const bytes = snapshotBytes(d.tree, frozen, 3);
  frozen.end();
  t.deepEqual(dump(restore(bytes)), dump(d.tree));
  d.apply({ type: TxnType.delete, path: `/p/${names[2] as string}` });
  t.is(d.tree.get(`/p/${names[2] as string}`), undefined);
  t.deepEqual(d.tree.get('/p')?.childNames(), [names[0], names[1], names[3]]);
});
