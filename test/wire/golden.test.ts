// Golden bytes captured from real ZooKeeper 3.8.0 (compat/capture/capture-golden.ts):
// every frame must decode with our records to sensible values and re-encode to the
// exact bytes ZooKeeper sent or accepted (aedes/mqtt-packet style, both directions).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import {
  AddWatchRequest,
  ConnectRequest,
  ConnectResponse,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  ErrorCode,
  ErrorResponse,
  ExistsResponse,
  GetACLResponse,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsResponse,
  JuteReader,
  OpCode,
  ReplyHeader,
  RequestHeader,
  SetACLResponse,
  SetDataResponse,
  SetSASLResponse,
  SetWatches2,
  Stat,
  SyncResponse,
  WatcherEvent,
  WhoAmIResponse,
  Xid,
  readMultiRequest,
  readMultiResponse,
} from '../../wire/index.js';
import { decodeFrame, encodeFrame, loadGolden } from './golden-fixtures.js';
import type { GoldenFrame } from './golden-fixtures.js';

const frames = loadGolden();
const byName = new Map(frames.map((f) => [f.name, f]));

function frame(name: string): GoldenFrame {
  const f = byName.get(name);
  if (f === undefined) throw new Error(`no golden frame named ${name}`);
  return f;
}

interface Readable<T> {
  read(r: JuteReader): T;
}

function reply<T>(name: string, body: Readable<T>): { h: ReplyHeader; v: T } {
  const r = new JuteReader(Buffer.from(frame(name).hex, 'hex'));
  const h = ReplyHeader.read(r);
  const v = body.read(r);
  r.expectEnd(name);
  return { h, v };
}

function replyHeader(name: string): ReplyHeader {
  return ReplyHeader.decode(Buffer.from(frame(name).hex, 'hex'));
}

function request<T>(name: string, body: Readable<T>): { h: RequestHeader; v: T } {
  const r = new JuteReader(Buffer.from(frame(name).hex, 'hex'));
  const h = RequestHeader.read(r);
  const v = body.read(r);
  r.expectEnd(name);
  return { h, v };
}

/** Invariants every Stat of a fresh persistent node created by this session satisfies. */
function assertStatSane(t: ExecutionContext, s: Stat, what: string): void {
  t.true(s.czxid > 0n, `${what}: czxid > 0`);
  t.true(s.mzxid >= s.czxid, `${what}: mzxid >= czxid`);
  t.true(s.pzxid >= s.czxid, `${what}: pzxid >= czxid`);
  t.true(s.ctime > 1_600_000_000_000n && s.ctime < 4_000_000_000_000n, `${what}: ctime is epoch ms`);
  t.true(s.mtime >= s.ctime, `${what}: mtime >= ctime`);
  t.true(s.version >= 0 && s.cversion >= 0 && s.aversion >= 0, `${what}: versions >= 0`);
  t.true(s.dataLength >= 0 && s.numChildren >= 0, `${what}: lengths >= 0`);
}

test('the fixture file holds frames in both directions with unique names', (t) => {
  t.true(frames.length >= 90);
  t.is(new Set(frames.map((f) => f.name)).size, frames.length);
  t.true(frames.some((f) => f.direction === 'c2s'));
  t.true(frames.some((f) => f.direction === 's2c'));
});

test('the fixtures cover every client record in wire/records.ts and wire/multi.ts', (t) => {
  const used = new Set(frames.flatMap((f) => f.record.split('+')));
  const expected = [
    'ConnectRequest', 'ConnectResponse', 'RequestHeader', 'ReplyHeader', 'WatcherEvent', 'AuthPacket',
    'CreateRequest', 'CreateTTLRequest', 'CreateResponse', 'Create2Response', 'DeleteRequest',
    'ExistsRequest', 'ExistsResponse', 'GetDataRequest', 'GetDataResponse', 'SetDataRequest', 'SetDataResponse',
    'GetACLRequest', 'GetACLResponse', 'SetACLRequest', 'SetACLResponse', 'GetChildrenRequest', 'GetChildrenResponse',
    'GetChildren2Request', 'GetChildren2Response', 'SyncRequest', 'SyncResponse', 'ErrorResponse',
    'CheckWatchesRequest', 'RemoveWatchesRequest', 'DeleteContainerRequest', 'GetEphemeralsRequest',
    'GetEphemeralsResponse', 'GetAllChildrenNumberRequest', 'GetAllChildrenNumberResponse', 'SetWatches',
    'SetWatches2', 'AddWatchRequest', 'WhoAmIResponse', 'GetSASLRequest', 'SetSASLResponse', 'ReconfigRequest',
    'MultiRequest', 'MultiResponse',
  ];
  t.deepEqual(expected.filter((n) => !used.has(n)), []);
});

for (const f of frames) {
  test(`golden ${f.name} (${f.record}): decode then encode gives ZooKeeper's bytes`, (t) => {
    const parts = decodeFrame(f);
    t.is(encodeFrame(f, parts).toString('hex'), f.hex);
  });
}

test('ConnectRequest with and without the readOnly byte (45 vs 44 bytes)', (t) => {
  const withByte = ConnectRequest.decode(Buffer.from(frame('connect-readonly-byte:c2s').hex, 'hex'));
  t.is(withByte.readOnly, false);
  t.is(withByte.protocolVersion, 0);
  t.is(withByte.timeOut, 30000);
  t.is(withByte.sessionId, 0n);
  t.is(withByte.passwd?.length, 16);
  const without = ConnectRequest.decode(Buffer.from(frame('connect-no-readonly-byte:c2s').hex, 'hex'));
  t.is(without.readOnly, null);
  t.is(frame('connect-readonly-byte:c2s').hex.length / 2, 45);
  t.is(frame('connect-no-readonly-byte:c2s').hex.length / 2, 44);
});

test('ConnectResponse mirrors the readOnly byte (37 vs 36 bytes) and gives consecutive session ids', (t) => {
  const a = ConnectResponse.decode(Buffer.from(frame('connect-readonly-byte:s2c').hex, 'hex'));
  const b = ConnectResponse.decode(Buffer.from(frame('connect-no-readonly-byte:s2c').hex, 'hex'));
  t.is(frame('connect-readonly-byte:s2c').hex.length / 2, 37);
  t.is(frame('connect-no-readonly-byte:s2c').hex.length / 2, 36);
  t.is(a.readOnly, false);
  t.is(b.readOnly, null);
  t.is(a.timeOut, 30000);
  t.is(a.passwd?.length, 16);
  // Standalone session ids: server id 1 in the top byte, then +1 per new session (ZOOKEEPER.md §6).
  t.is(a.sessionId >> 56n, 1n);
  t.is(b.sessionId, a.sessionId + 1n);
});

test('create family: requests carry path, data, ACL, flags; responses path and Stat', (t) => {
  const create = request('create:c2s', CreateRequest);
  t.deepEqual(create.h, { xid: 1, type: OpCode.create });
  t.is(create.v.path, '/golden');
  t.is(create.v.data?.toString(), 'hello');
  t.deepEqual(create.v.acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
  t.is(create.v.flags, 0);
  const created = reply('create:s2c', CreateResponse);
  t.is(created.h.xid, 1);
  t.is(created.h.err, 0);
  t.true(created.h.zxid > 0n);
  t.is(created.v.path, '/golden');

  t.is(request('create-null-data:c2s', CreateRequest).v.data, null);

  const c2 = reply('create2:s2c', Create2Response);
  t.is(c2.v.path, '/golden/c2');
  assertStatSane(t, c2.v.stat, 'create2');
  t.is(c2.v.stat.czxid, c2.h.zxid);
  t.is(c2.v.stat.mzxid, c2.v.stat.czxid);
  t.is(c2.v.stat.pzxid, c2.v.stat.czxid);
  t.is(c2.v.stat.ctime, c2.v.stat.mtime);
  t.is(c2.v.stat.dataLength, 3);
  t.is(c2.v.stat.ephemeralOwner, 0n);

  t.is(request('createContainer:c2s', CreateRequest).h.type, OpCode.createContainer);
  const container = reply('createContainer:s2c', Create2Response);
  t.is(container.v.path, '/golden/container');
  t.is(container.v.stat.ephemeralOwner, 0n, 'containers report ephemeralOwner 0');

  const ttl = request('createTTL:c2s', CreateTTLRequest);
  t.is(ttl.h.type, OpCode.createTTL);
  t.is(ttl.v.flags, 5);
  t.is(ttl.v.ttl, 60000n);
  const ttlReply = reply('createTTL:s2c', Create2Response);
  t.is(ttlReply.v.stat.ephemeralOwner, 0n, 'TTL nodes report ephemeralOwner 0');

  t.is(reply('create-sequential:s2c', CreateResponse).v.path, '/golden/seq-0000000004');
  t.is(replyHeader('create-nodeexists:s2c').err, ErrorCode.NodeExists);
  t.is(frame('create-nodeexists:s2c').hex.length / 2, 16, 'error replies have no body');
});

test('exists, getData, setData: Stat values follow the writes', (t) => {
  const hit = reply('exists-hit-watch:s2c', ExistsResponse);
  assertStatSane(t, hit.v.stat, 'exists');
  t.is(hit.v.stat.dataLength, 5);
  t.is(hit.v.stat.numChildren, 6);
  t.is(replyHeader('exists-miss:s2c').err, ErrorCode.NoNode);

  const data = reply('getData:s2c', GetDataResponse);
  t.is(data.v.data?.toString(), 'hello');
  t.deepEqual(data.v.stat, hit.v.stat);
  const nullData = reply('getData-null:s2c', GetDataResponse);
  t.is(nullData.v.data, null, 'null data comes back as length -1');
  t.is(nullData.v.stat.dataLength, 0);

  const set = reply('setData:s2c', SetDataResponse);
  t.is(set.v.stat.version, 1);
  t.is(set.v.stat.mzxid, set.h.zxid);
  t.is(set.v.stat.czxid, hit.v.stat.czxid);
  t.is(set.v.stat.dataLength, 5);
  t.is(replyHeader('setData-badversion:s2c').err, ErrorCode.BadVersion);
});

test('watch notifications: xid -1, zxid -1 in 3.8, SyncConnected, event before the reply', (t) => {
  const ev = reply('setData:notification:s2c', WatcherEvent);
  t.is(ev.h.xid, Xid.Notification);
  t.is(ev.h.zxid, -1n);
  t.is(ev.h.err, 0);
  t.deepEqual(ev.v, { type: 3, state: 3, path: '/golden' });
  const setDataNames = frames.filter((f) => f.name.startsWith('setData:') && f.direction === 's2c').map((f) => f.name);
  t.deepEqual(setDataNames, ['setData:notification:s2c', 'setData:s2c']);
  t.deepEqual(reply('create-under-recursive-watch:notification:s2c', WatcherEvent).v, { type: 1, state: 3, path: '/golden/c2/deep' });
  t.deepEqual(reply('delete:notification:s2c', WatcherEvent).v, { type: 2, state: 3, path: '/golden/m2' });
  t.deepEqual(reply('closeSession:notification:s2c', WatcherEvent).v, { type: 2, state: 3, path: '/golden/eph' });
});

test('auth and ACLs: digest id, NoAuth, InvalidACL, aversion', (t) => {
  const auth = RequestHeader.decode(Buffer.from(frame('auth:c2s').hex, 'hex').subarray(0, 8));
  t.deepEqual(auth, { xid: Xid.Auth, type: OpCode.auth });
  t.deepEqual(replyHeader('auth:s2c'), { xid: Xid.Auth, zxid: 0n, err: 0 });
  const setAcl = reply('setACL:s2c', SetACLResponse);
  t.is(setAcl.v.stat.aversion, 1);
  t.is(setAcl.v.stat.version, 0);
  t.true(setAcl.v.stat.mzxid < setAcl.h.zxid, 'setACL does not change mzxid');
  t.is(replyHeader('setACL-invalid:s2c').err, ErrorCode.InvalidACL);
  const acl = reply('getACL:s2c', GetACLResponse);
  t.deepEqual(acl.v.acl, [{ perms: 31, id: { scheme: 'digest', id: 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=' } }]);
  t.is(acl.v.stat.aversion, 1);
  t.is(replyHeader('getData-noauth:s2c').err, ErrorCode.NoAuth);
});

test('children, sync, ephemerals, descendant count', (t) => {
  const kids = reply('getChildren:s2c', GetChildrenResponse).v.children;
  t.deepEqual([...kids].sort(), ['c2', 'container', 'eph', 'nulldata', 'seq-0000000004', 'ttl']);
  const kids2 = reply('getChildren2:s2c', GetChildren2Response);
  t.deepEqual([...kids2.v.children].sort(), [...kids].sort());
  t.is(kids2.v.stat.numChildren, 6);
  t.is(kids2.v.stat.cversion, 6);
  t.is(reply('sync:s2c', SyncResponse).v.path, '/golden');
  t.deepEqual(reply('getEphemerals:s2c', GetEphemeralsResponse).v.ephemerals, ['/golden/eph']);
  t.is(reply('getAllChildrenNumber:s2c', GetAllChildrenNumberResponse).v.totalNumber, 7);
});

test('watch management: checkWatches, NoWatcher, removeWatches, addWatch body is ErrorResponse{0}', (t) => {
  t.is(replyHeader('checkWatches:s2c').err, 0);
  t.is(replyHeader('checkWatches-nowatcher:s2c').err, ErrorCode.NoWatcher);
  t.is(replyHeader('removeWatches:s2c').err, 0);
  t.is(request('addWatch:c2s', AddWatchRequest).v.mode, 1);
  t.deepEqual(reply('addWatch:s2c', ErrorResponse).v, { err: 0 });
  t.is(frame('addWatch:s2c').hex.length / 2, 20);
});

test('setWatches/setWatches2 use xid -8; changed watches fire before the reply', (t) => {
  const sw2 = request('setWatches2:c2s', SetWatches2);
  t.deepEqual(sw2.h, { xid: Xid.SetWatches, type: OpCode.setWatches2 });
  t.deepEqual(sw2.v.persistentRecursiveWatches, ['/golden/r']);
  t.deepEqual(reply('setWatches:notification:s2c', WatcherEvent).v, { type: 3, state: 3, path: '/golden' });
  t.deepEqual(reply('setWatches:notification:s2c#2', WatcherEvent).v, { type: 4, state: 3, path: '/golden' });
  t.is(replyHeader('setWatches:s2c').xid, Xid.SetWatches);
  t.is(replyHeader('setWatches2:s2c').err, 0);
});

test('multi success: one zxid, per-op results (3.8.0 reports create2 as type 1)', (t) => {
  const r = new JuteReader(Buffer.from(frame('multi:c2s').hex, 'hex'));
  t.is(RequestHeader.read(r).type, OpCode.multi);
  t.deepEqual(readMultiRequest(r).map((op) => op.type), [1, 15, 5, 13, 2]);
  const res = reply('multi:s2c', { read: readMultiResponse });
  t.is(res.h.err, 0);
  // ZOOKEEPER-4026: 3.8.0-3.8.1 degrade the create2 result to type 1 (ZOOKEEPER.md §3.2).
  t.deepEqual(res.v.map((x) => x.type), [1, 1, 5, 13, 2]);
  const setRes = res.v[2];
  if (setRes?.type !== OpCode.setData) throw new Error('third result is not setData');
  t.is(setRes.stat.mzxid, res.h.zxid, 'all sub-ops share the multi zxid');
  t.is(setRes.stat.version, 2);
});

test('multi failure: every result is an error; before 0, failing op its code, after -2', (t) => {
  const res = reply('multi-failure:s2c', { read: readMultiResponse });
  t.is(res.h.err, 0);
  t.deepEqual(res.v, [
    { type: -1, err: 0 },
    { type: -1, err: ErrorCode.BadVersion },
    { type: -1, err: ErrorCode.RuntimeInconsistency },
  ]);
  t.deepEqual(reply('multi-empty:s2c', { read: readMultiResponse }).v, []);
});

test('multiRead: independent results, a missing node is an error result', (t) => {
  const res = reply('multiRead:s2c', { read: readMultiResponse });
  t.deepEqual(res.v.map((x) => x.type), [OpCode.getData, OpCode.getChildren, -1]);
  const first = res.v[0];
  if (first?.type !== OpCode.getData) throw new Error('first result is not getData');
  t.is(first.data?.toString(), 'multi');
  t.deepEqual(res.v[2], { type: -1, err: ErrorCode.NoNode });
});

test('whoAmI, ping, sasl, close, odd opcodes', (t) => {
  t.deepEqual(reply('whoAmI:s2c', WhoAmIResponse).v.clientInfo, [
    { authScheme: 'digest', user: 'bob' },
    { authScheme: 'ip', user: '127.0.0.1' },
  ]);
  t.deepEqual(RequestHeader.decode(Buffer.from(frame('ping:c2s').hex, 'hex')), { xid: Xid.Ping, type: OpCode.ping });
  t.is(replyHeader('ping:s2c').xid, Xid.Ping);
  t.deepEqual(reply('sasl:s2c', SetSASLResponse).v, { token: null });
  t.is(reply('sasl:s2c', SetSASLResponse).h.zxid, 0n);
  t.is(replyHeader('delete-notempty:s2c').err, ErrorCode.NotEmpty);
  t.is(replyHeader('deleteContainer:s2c').err, ErrorCode.BadArguments);
  t.is(replyHeader('reconfig:s2c').err, ErrorCode.ReconfigDisabled);
  t.is(replyHeader('closeSession:s2c').err, 0);
  t.deepEqual(replyHeader('unknown-opcode:s2c'), { xid: 1, zxid: -1n, err: ErrorCode.Unimplemented });
});
