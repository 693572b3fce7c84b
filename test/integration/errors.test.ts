// Every error path a client can provoke, with ZooKeeper's error code and check order
// (ZOOKEEPER.md §3): NoNode, NodeExists, NotEmpty, BadVersion, NoChildrenForEphemerals,
// InvalidACL, NoAuth, BadArguments, Unimplemented (+close), multi's all-or-nothing result
// pattern and MarshallingError for mixed multis. The server runs WITHOUT extendedTypesEnabled.
// All expectations were checked on ZooKeeper 3.8.0 (ZOORAFT_TEST_TARGET=zookeeper).
import test from 'ava';
import { startTarget } from '../helpers/target.js';
import type { Target } from '../helpers/target.js';
import * as nzk from '../helpers/nzk.js';
import * as raw from './lib/raw-ops.js';
import { DeleteContainerRequest, ErrorCode, OpCode, ReconfigRequest } from '../../wire/index.js';
import type { ACL } from '../../wire/index.js';

let target: Target;

test.before(async () => {
  target = await startTarget({});
});

test.after.always(async () => {
  await target.stop();
});

const E = ErrorCode;

test('NoNode: reads and writes on a missing node, create under a missing parent', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.getData(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.exists(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.getChildren(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.getChildren2(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.getACL(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.getAllChildrenNumber(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.setData(c, '/err-missing', Buffer.from('x'), 7)).err, E.NoNode, 'NoNode wins over BadVersion');
    t.is((await raw.setACL(c, '/err-missing', raw.OPEN_ACL)).err, E.NoNode);
    t.is((await raw.remove(c, '/err-missing')).err, E.NoNode);
    t.is((await raw.remove(c, '/err-missing/child')).err, E.NoNode);
    t.is((await raw.create(c, '/err-missing/child')).err, E.NoNode);
    t.is((await raw.create(c, '/err-missing/', { flags: 2 })).err, E.NoNode);
  });
  await nzk.withClient(target.connectString, async (c) => {
    t.is(await nzk.codeOf(nzk.getData(c, '/err-missing')), E.NoNode);
    t.is(await nzk.codeOf(nzk.remove(c, '/err-missing')), E.NoNode);
    t.is(await nzk.exists(c, '/err-missing'), null, 'node-zookeeper-client maps NoNode on exists to null');
  });
});

test('error replies carry no body (16-byte frame) and failed writes still get a zxid', async (t) => {
  await raw.withRaw(target, async (c) => {
    const ok = await raw.create(c, '/err-body');
    t.is(ok.err, 0);
    const reply = await c.request(OpCode.getData, (w) => {
      w.writeUString('/err-body-missing');
      w.writeBool(false);
    });
    t.is(reply.err, E.NoNode);
    t.is(reply.body.length, 0);
    t.true(reply.zxid >= ok.zxid);
    const dup = await raw.create(c, '/err-body');
    t.is(dup.err, E.NodeExists);
    t.true(dup.zxid > ok.zxid, 'a failed write is an error txn with its own zxid');
  });
});

test('NodeExists, NotEmpty, NoChildrenForEphemerals', async (t) => {
  await nzk.withClient(target.connectString, async (c) => {
    await nzk.create(c, '/err-exists');
    t.is(await nzk.codeOf(nzk.create(c, '/err-exists')), E.NodeExists);
    await nzk.create(c, '/err-exists/child');
    t.is(await nzk.codeOf(nzk.remove(c, '/err-exists')), E.NotEmpty);
    t.is(await nzk.codeOf(nzk.remove(c, '/err-exists', 5)), E.BadVersion, 'BadVersion is checked before NotEmpty');
    await nzk.create(c, '/err-eph', null, nzk.zookeeper.CreateMode.EPHEMERAL);
    t.is(await nzk.codeOf(nzk.create(c, '/err-eph/child')), E.NoChildrenForEphemerals);
    t.is(await nzk.codeOf(nzk.create(c, '/err-eph/seq', null, nzk.zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL)), E.NoChildrenForEphemerals);
    t.deepEqual((await nzk.getChildren(c, '/err-eph')).children, []);
  });
});

test('BadVersion on setData, delete, setACL', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/err-ver', { data: Buffer.from('a') })).err, 0);
    t.is((await raw.setData(c, '/err-ver', Buffer.from('b'), 1)).err, E.BadVersion);
    t.is((await raw.setData(c, '/err-ver', Buffer.from('b'), 0)).err, 0);
    t.is((await raw.setData(c, '/err-ver', Buffer.from('c'), 0)).err, E.BadVersion);
    t.is((await raw.setACL(c, '/err-ver', raw.OPEN_ACL, 1)).err, E.BadVersion);
    t.is((await raw.remove(c, '/err-ver', 0)).err, E.BadVersion);
    const d = await raw.getData(c, '/err-ver');
    t.deepEqual(d.res?.data, Buffer.from('b'));
    t.is(d.res?.stat.version, 1);
    t.is(d.res?.stat.aversion, 0);
    t.is((await raw.remove(c, '/err-ver', 1)).err, 0);
  });
});

test('InvalidACL: empty list, auth without ids, unknown scheme, malformed ids', async (t) => {
  const bad: Array<[string, ACL[]]> = [
    ['empty', []],
    ['auth with no authenticated ids', raw.CREATOR_ALL_ACL],
    ['unknown scheme', [{ perms: 31, id: { scheme: 'foo', id: 'bar' } }]],
    ['digest without colon', [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }]],
    ['bad ip', [{ perms: 31, id: { scheme: 'ip', id: '300.1.1.1' } }]],
    ['world id other than anyone', [{ perms: 31, id: { scheme: 'world', id: 'someone' } }]],
  ];
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/err-acl')).err, 0);
    for (const [why, acl] of bad) {
      t.is((await raw.create(c, '/err-acl/x', { acl })).err, E.InvalidACL, `create: ${why}`);
      t.is((await raw.setACL(c, '/err-acl', acl)).err, E.InvalidACL, `setACL: ${why}`);
    }
    t.is((await raw.create(c, '/err-acl-missing/x', { acl: [] })).err, E.InvalidACL, 'InvalidACL is checked before the parent exists');
    t.is((await raw.exists(c, '/err-acl/x')).err, E.NoNode);
    t.deepEqual((await raw.getACL(c, '/err-acl')).res?.acl, raw.OPEN_ACL);
    // A null ACL vector (length -1) is as invalid as an empty one.
    t.is((await raw.create(c, '/err-acl/null', { acl: null })).err, E.InvalidACL);
    t.is((await raw.setACL(c, '/err-acl', null)).err, E.InvalidACL);
  });
});

test('NoAuth: create under a READ-only parent, setData without WRITE', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/err-noauth', { acl: raw.READ_ACL, data: Buffer.from('r') })).err, 0);
    t.is((await raw.create(c, '/err-noauth/child')).err, E.NoAuth);
    t.is((await raw.setData(c, '/err-noauth', Buffer.from('w'))).err, E.NoAuth);
    t.is((await raw.setACL(c, '/err-noauth', raw.OPEN_ACL)).err, E.NoAuth);
    t.deepEqual((await raw.getData(c, '/err-noauth')).res?.data, Buffer.from('r'));
  });
});

test('BadArguments: malformed write paths (once the parent exists), bad flags, system-node deletes', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/err-path')).err, 0);
    const badPaths = ['noslash', '/err-path/', '/err-path/.', '/err-path/..', '/err-path/a\u0001', '/err-path/\u{1F600}', '/err-path/a\u007f'];
    for (const p of badPaths) t.is((await raw.create(c, p)).err, E.BadArguments, JSON.stringify(p));
    // The parent is looked up before the full path is validated: a malformed path under a
    // missing parent is NoNode.
    t.is((await raw.create(c, '/err-nope//x')).err, E.NoNode);
    t.is((await raw.create(c, '/err-nope/./x')).err, E.NoNode);
    t.is((await raw.setData(c, '/err-path//x', null)).err, E.BadArguments);
    t.is((await raw.setData(c, 'relative', null)).err, E.BadArguments);
    t.is((await raw.create(c, '/err-path/f9', { flags: 9 })).err, E.BadArguments);
    t.is((await raw.create(c, '/err-path/f-1', { flags: -1 })).err, E.BadArguments);
    // A TTL flag through create/create2: the extended-types switch is checked first, so with
    // it off (this server) the answer is Unimplemented; with it on it is BadArguments (crud).
    t.is((await raw.create(c, '/err-path/f5', { flags: 5 })).err, E.Unimplemented, 'TTL flag through create2');
    t.is((await raw.create(c, '/err-path/f6', { flags: 6, op: OpCode.create })).err, E.Unimplemented, 'TTL flag through create');
    t.deepEqual((await raw.getChildren(c, '/err-path')).res, []);
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      t.is((await raw.remove(c, p)).err, E.BadArguments, `delete ${p}`);
    }
    t.is((await raw.exists(c, '/err-path/a\u0000b')).err, E.BadArguments, 'NUL in an exists path');
  });
});

test('TTL nodes without extendedTypesEnabled are Unimplemented; createTTL flag checks come first', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/err-ttl', { op: OpCode.createTTL, flags: 5, ttl: 1000n })).err, E.Unimplemented);
    t.is((await raw.create(c, '/err-ttl', { op: OpCode.createTTL, flags: 6, ttl: 1000n })).err, E.Unimplemented);
    t.is((await raw.create(c, '/err-ttl', { op: OpCode.createTTL, flags: 0, ttl: 1000n })).err, E.BadArguments);
    t.is((await raw.exists(c, '/err-ttl')).err, E.NoNode);
    t.false(c.closed, 'Unimplemented TTL does not close the connection');
  });
});

test('reads with syntactically invalid paths answer NoNode', async (t) => {
  await raw.withRaw(target, async (c) => {
    for (const p of ['bad', '/a//b', '/a/', '/.', 'zookeeper']) {
      t.is((await raw.getData(c, p)).err, E.NoNode, `getData ${JSON.stringify(p)}`);
      t.is((await raw.getChildren(c, p)).err, E.NoNode, `getChildren ${JSON.stringify(p)}`);
      t.is((await raw.getACL(c, p)).err, E.NoNode, `getACL ${JSON.stringify(p)}`);
    }
    t.is((await raw.exists(c, '/a//b')).err, E.NoNode);
    // The empty path is not an error on reads: ZooKeeper's DataTree keeps the root under ""
    // as well as "/", so "" reads the root.
    const root = await raw.getData(c, '/');
    const empty = await raw.getData(c, '');
    t.is(empty.err, 0);
    t.is(empty.res?.stat.czxid, 0n);
    t.deepEqual(empty.res?.data, root.res?.data);
    t.true((await raw.getChildren(c, '')).res?.includes('zookeeper'));
    t.is((await raw.exists(c, '')).err, 0);
    // ...but it is a bad path for writes.
    t.is((await raw.setData(c, '', null)).err, E.BadArguments);
    t.is((await raw.create(c, '')).err, E.BadArguments);
    t.is((await raw.remove(c, '')).err, E.BadArguments);
  });
});

test('unknown opcode: Unimplemented (-6) with zxid -1, then the server closes the connection', async (t) => {
  const c = await raw.rawConnect(target);
  try {
    t.is((await raw.create(c, '/err-unknown-op')).err, 0);
    const reply = await c.request(99, (w) => w.writeInt(1));
    t.is(reply.err, E.Unimplemented);
    t.is(reply.zxid, -1n);
    t.is(reply.body.length, 0);
    await c.waitForClose(5000);
    t.true(c.closed);
  } finally {
    c.socket.destroy();
  }
  // The session itself lives on: a new connection still sees the tree.
  await raw.withRaw(target, async (c2) => {
    t.is((await raw.exists(c2, '/err-unknown-op')).err, 0);
  });
});

test('multi failure: nothing applied; results are all type -1 with 0 / code / -2; header err 0', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/err-multi', { data: Buffer.from('m') })).err, 0);
    const r = await raw.multi(c, [
      { type: OpCode.create, req: { path: '/err-multi/a', data: null, acl: raw.OPEN_ACL, flags: 0 } },
      { type: OpCode.setData, req: { path: '/err-multi', data: Buffer.from('x'), version: 7 } },
      { type: OpCode.create, req: { path: '/err-multi/b', data: null, acl: raw.OPEN_ACL, flags: 0 } },
      { type: OpCode.delete, req: { path: '/err-multi', version: -1 } },
    ]);
    t.is(r.err, 0);
    t.deepEqual(r.res, [
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: E.BadVersion },
      { type: OpCode.error, err: E.RuntimeInconsistency },
      { type: OpCode.error, err: E.RuntimeInconsistency },
    ]);
    t.deepEqual((await raw.getChildren(c, '/err-multi')).res, []);
    const d = await raw.getData(c, '/err-multi');
    t.deepEqual(d.res?.data, Buffer.from('m'));
    t.is(d.res?.stat.version, 0);
    t.is(d.res?.stat.cversion, 0, 'the rolled-back create left no trace');

    const first = await raw.multi(c, [
      { type: OpCode.check, req: { path: '/err-multi/none', version: 0 } },
      { type: OpCode.create, req: { path: '/err-multi/c', data: null, acl: raw.OPEN_ACL, flags: 0 } },
    ]);
    t.deepEqual(first.res, [
      { type: OpCode.error, err: E.NoNode },
      { type: OpCode.error, err: E.RuntimeInconsistency },
    ]);
    const dup = await raw.multi(c, [
      { type: OpCode.create, req: { path: '/err-multi/d', data: null, acl: raw.OPEN_ACL, flags: 0 } },
      { type: OpCode.create, req: { path: '/err-multi/d', data: null, acl: raw.OPEN_ACL, flags: 0 } },
    ]);
    t.deepEqual(dup.res, [
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: E.NodeExists },
    ]);
    t.is((await raw.exists(c, '/err-multi/d')).err, E.NoNode);
  });
  await nzk.withClient(target.connectString, async (c) => {
    const r = await nzk.multi(c, [
      { op: 'create', path: '/err-multi/n' },
      { op: 'check', path: '/err-multi', version: 3 },
    ]);
    t.is(r.error, E.BadVersion);
    t.deepEqual(
      r.results.map((x) => [x.type, x.err]),
      [
        [-1, 0],
        [-1, E.BadVersion],
      ],
    );
    t.is(await nzk.exists(c, '/err-multi/n'), null);
  });
});

test('multi mixing reads and writes is MarshallingError (-5); so is a write inside multiRead', async (t) => {
  await raw.withRaw(target, async (c) => {
    const mixed = await raw.multi(c, [
      { type: OpCode.getData, req: { path: '/', watch: false } },
      { type: OpCode.create, req: { path: '/err-mixed', data: null, acl: raw.OPEN_ACL, flags: 0 } },
    ]);
    t.is(mixed.err, E.MarshallingError);
    t.is((await raw.exists(c, '/err-mixed')).err, E.NoNode);
    const writeInRead = await raw.multiRead(c, [{ type: OpCode.create, req: { path: '/err-mixed', data: null, acl: raw.OPEN_ACL, flags: 0 } }]);
    t.is(writeInRead.err, E.MarshallingError);
    t.is((await raw.exists(c, '/err-mixed')).err, E.NoNode);
    t.false(c.closed, 'MarshallingError keeps the connection');
  });
});

/** A frame: 4-byte big-endian length + body. */
function frameOf(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

function requestBytes(xid: number, type: number, body: Buffer): Buffer {
  const hdr = Buffer.alloc(8);
  hdr.writeInt32BE(xid, 0);
  hdr.writeInt32BE(type, 4);
  return frameOf(Buffer.concat([hdr, body]));
}

/** Sends bytes on a fresh session; resolves with the first reply frame's header, or 'closed'. */
async function sendGarbage(bytes: Buffer): Promise<{ xid: number; err: number } | 'closed'> {
  const c = await raw.rawConnect(target);
  try {
    const reply = new Promise<{ xid: number; err: number }>((resolve) => {
      c.socket.once('data', (d: Buffer) => resolve({ xid: d.readInt32BE(4), err: d.readInt32BE(16) }));
    });
    c.sendRaw(bytes);
    return await Promise.race([reply, c.waitForClose(5000).then(() => 'closed' as const)]);
  } finally {
    c.socket.destroy();
  }
}

test('an undecodable request body is answered MarshallingError (-5); the connection stays', async (t) => {
  const cases: Array<[string, number, Buffer]> = [
    ['getData with a truncated path', OpCode.getData, Buffer.from([0, 0, 0, 100, 0x2f])],
    ['create with garbage', OpCode.create, Buffer.from('garbage garbage garbage')],
    ['setData with no body', OpCode.setData, Buffer.alloc(0)],
    ['multi with a truncated header', OpCode.multi, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0])],
  ];
  for (const [why, type, body] of cases) {
    const c = await raw.rawConnect(target);
    try {
      const reply = new Promise<Buffer>((resolve) => c.socket.once('data', (d: Buffer) => resolve(d)));
      c.sendRaw(requestBytes(77, type, body));
      const d = await reply;
      t.is(d.readInt32BE(0), 16, `${why}: a bare ReplyHeader`);
      t.is(d.readInt32BE(4), 77, `${why}: xid echoed`);
      t.is(d.readInt32BE(16), E.MarshallingError, why);
      t.false(c.closed, why);
    } finally {
      c.socket.destroy();
    }
  }
});

test('trailing bytes after a request record are ignored', async (t) => {
  const c = await raw.rawConnect(target);
  try {
    const reply = new Promise<Buffer>((resolve) => c.socket.once('data', (d: Buffer) => resolve(d)));
    // exists("/", false) + 4 stray bytes
    c.sendRaw(requestBytes(5, OpCode.exists, Buffer.from([0, 0, 0, 1, 0x2f, 0, 1, 2, 3, 4])));
    const d = await reply;
    t.is(d.readInt32BE(0), 16 + 68, 'ReplyHeader + Stat');
    t.is(d.readInt32BE(4), 5);
    t.is(d.readInt32BE(16), 0);
  } finally {
    c.socket.destroy();
  }
});

test('frames too short for a RequestHeader, negative lengths and lengths over jute.maxbuffer close the connection', async (t) => {
  t.is(await sendGarbage(frameOf(Buffer.from([1, 2, 3]))), 'closed');
  t.is(await sendGarbage(Buffer.from([0xff, 0xff, 0xff, 0xf0])), 'closed');
  // Default jute.maxbuffer is 0xfffff; announce one byte more (the body never needs to come).
  t.is(await sendGarbage(Buffer.from([0x00, 0x10, 0x00, 0x00, 0, 0, 0, 1])), 'closed');
  // Other sessions are unaffected.
  await raw.withRaw(target, async (c) => {
    t.is((await raw.exists(c, '/zookeeper')).err, 0);
  });
});

test('reconfig is ReconfigDisabled (-123) by default; a client-sent deleteContainer is BadArguments', async (t) => {
  await raw.withRaw(target, async (c) => {
    const r = await c.request(OpCode.reconfig, (w) =>
      ReconfigRequest.write(w, { joiningServers: null, leavingServers: '2', newMembers: null, curConfigId: -1n }),
    );
    t.is(r.err, E.ReconfigDisabled);
    t.is((await raw.create(c, '/err-dc', { op: OpCode.createContainer, flags: 4 })).err, 0);
    t.is((await raw.create(c, '/err-dc-plain')).err, 0);
    // deleteContainer (20) is the container reaper's internal txn type; ZooKeeper 3.8.0 refuses
    // it from a client for containers and plain nodes alike.
    for (const path of ['/err-dc', '/err-dc-plain']) {
      const d = await c.request(OpCode.deleteContainer, (w) => DeleteContainerRequest.write(w, { path }));
      t.is(d.err, E.BadArguments, path);
      t.is((await raw.exists(c, path)).err, 0, path);
    }
    t.false(c.closed);
  });
});

test('data just under the default jute.maxbuffer works; a 1 MiB create closes the connection', async (t) => {
  await raw.withRaw(target, async (c) => {
    const big = Buffer.alloc(0xfffff - 200, 7);
    t.is((await raw.create(c, '/err-big', { data: big })).err, 0);
    const back = await raw.getData(c, '/err-big');
    t.is(back.res?.stat.dataLength, big.length);
    t.true(back.res?.data?.equals(big));
  });
  const c = await raw.rawConnect(target);
  try {
    await t.throwsAsync(raw.create(c, '/err-too-big', { data: Buffer.alloc(1024 * 1024, 8) }), { message: /closed|ECONNRESET|EPIPE/ });
    t.true(c.closed);
  } finally {
    c.socket.destroy();
  }
  await raw.withRaw(target, async (c2) => {
    t.is((await raw.exists(c2, '/err-too-big')).err, E.NoNode);
  });
});
