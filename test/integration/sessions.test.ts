// Sessions as ZooKeeper clients see them (ZOOKEEPER.md §1.2, §6): timeout negotiation clamped
// to [2, 20] x tickTime, the optional readOnly byte mirrored in the ConnectResponse, ping,
// closeSession, expiry on the server's clock, reconnect with id+password, refusal of bad
// passwords, expired and unknown sessions, and of clients that have seen a newer zxid.
// All expectations were checked on ZooKeeper 3.8.0 (ZOORAFT_TEST_TARGET=zookeeper).
import net from 'node:net';
import test from 'ava';
import { startTarget } from '../helpers/target.js';
import type { Target } from '../helpers/target.js';
import * as nzk from '../helpers/nzk.js';
import * as raw from './lib/raw-ops.js';
import { ConnectRequest, ConnectResponse, EventType, FrameDecoder, JuteReader, JuteWriter, KeeperState, OpCode, ReplyHeader, RequestHeader, Xid } from '../../wire/index.js';

const TICK_MS = 200;
let target: Target;

test.before(async () => {
  target = await startTarget({ tickTimeMs: TICK_MS });
});

test.after.always(async () => {
  await target.stop();
});

test('session timeout is clamped to [2, 20] x tickTime in the ConnectResponse', async (t) => {
  const cases: Array<[number, number]> = [
    [1, 2 * TICK_MS],
    [100, 2 * TICK_MS],
    [1000, 1000],
    [3333, 3333],
    [1_000_000, 20 * TICK_MS],
  ];
  for (const [asked, expected] of cases) {
    const c = await raw.rawConnect(target, { timeOutMs: asked });
    try {
      t.is(c.response.timeOut, expected, `asked ${asked}`);
    } finally {
      await c.close();
    }
  }
  await nzk.withClient(
    target.connectString,
    async (c) => {
      t.is(c.getSessionTimeout(), 20 * TICK_MS);
    },
    { sessionTimeoutMs: 30000 },
  );
});

test('ConnectResponse mirrors the optional readOnly byte: 37 bytes with it, 36 without', async (t) => {
  for (const readOnly of [false, null] as const) {
    const c = await raw.rawConnect(target, { readOnly });
    try {
      t.is(c.response.readOnly, readOnly === null ? null : false);
      t.is(ConnectResponse.encode(c.response).length, readOnly === null ? 36 : 37);
      t.is(c.response.protocolVersion, 0);
      t.not(c.response.sessionId, 0n);
      t.is(c.response.passwd?.length, 16);
      // The session works either way.
      t.is((await raw.exists(c, '/zookeeper')).err, 0);
    } finally {
      await c.close();
    }
  }
});

test('new sessions get distinct ids', async (t) => {
  const a = await raw.rawConnect(target);
  const b = await raw.rawConnect(target);
  try {
    t.not(a.sessionId, b.sessionId);
    t.not(a.passwd.toString('hex'), b.passwd.toString('hex'));
  } finally {
    await a.close();
    await b.close();
  }
});

test('ping (xid -2, op 11) is answered with xid -2, no body, and the last zxid', async (t) => {
  await raw.withRaw(target, async (c) => {
    const w = await raw.create(c, '/sess-ping');
    t.is(w.err, 0);
    const reply = await c.request(OpCode.ping, undefined, Xid.Ping);
    t.is(reply.xid, Xid.Ping);
    t.is(reply.err, 0);
    t.is(reply.body.length, 0);
    t.true(reply.zxid >= w.zxid);
  });
});

test('pings keep a short session alive past its timeout', async (t) => {
  await raw.withRaw(
    target,
    async (c) => {
      t.is(c.response.timeOut, 4 * TICK_MS);
      t.is((await raw.create(c, '/sess-kept', { flags: 1 })).err, 0);
      const until = Date.now() + 12 * TICK_MS;
      while (Date.now() < until) {
        t.is((await c.request(OpCode.ping, undefined, Xid.Ping)).err, 0);
        await new Promise((r) => setTimeout(r, TICK_MS / 2));
      }
      t.is((await raw.exists(c, '/sess-kept')).err, 0);
      t.is((await raw.exists(c, '/sess-kept')).res?.ephemeralOwner, c.sessionId);
    },
    { timeOutMs: 4 * TICK_MS },
  );
});

test('closeSession replies, closes the socket, deletes ephemerals and fires watches elsewhere', async (t) => {
  await raw.withRaw(target, async (watcher) => {
    t.is((await raw.create(watcher, '/sess-close')).err, 0);
    const owner = await raw.rawConnect(target);
    t.is((await raw.create(owner, '/sess-close/e', { flags: 1 })).err, 0);
    t.is((await raw.create(owner, '/sess-close/s-', { flags: 3 })).err, 0);
    t.is((await raw.exists(watcher, '/sess-close/e', true)).err, 0);
    t.is((await raw.getChildren(watcher, '/sess-close', true)).err, 0);
    const reply = await owner.request(OpCode.closeSession);
    t.is(reply.err, 0);
    t.is(reply.body.length, 0);
    await owner.waitForClose(5000);
    const events = await watcher.waitForEvents(2);
    t.deepEqual(
      events.map((e) => [e.type, e.state, e.path]),
      [
        [EventType.NodeDeleted, KeeperState.SyncConnected, '/sess-close/e'],
        [EventType.NodeChildrenChanged, KeeperState.SyncConnected, '/sess-close'],
      ],
    );
    t.deepEqual((await raw.getChildren(watcher, '/sess-close')).res, []);
    // The closed session cannot be resumed.
    const again = await raw.rawConnect(target, { sessionId: owner.sessionId, passwd: owner.passwd });
    t.is(again.response.timeOut, 0);
    t.is(again.response.sessionId, 0n);
    await again.waitForClose(5000);
  });
});

test('node-zookeeper-client close() ends the session and its ephemerals', async (t) => {
  await nzk.withClient(target.connectString, async (observer) => {
    await nzk.create(observer, '/sess-nclose');
    const c = await nzk.connect(target.connectString);
    await nzk.create(c, '/sess-nclose/e', null, nzk.zookeeper.CreateMode.EPHEMERAL);
    const rec = new nzk.EventRecorder();
    t.not(await nzk.exists(observer, '/sess-nclose/e', rec.watcher), null);
    await nzk.close(c);
    const [ev] = await rec.waitFor(1);
    t.is(ev?.getType(), nzk.zookeeper.Event.NODE_DELETED);
    t.is(ev?.getPath(), '/sess-nclose/e');
    t.is(await nzk.exists(observer, '/sess-nclose/e'), null);
  });
});

test('expiry on the server clock: dropped connection, ephemeral vanishes, watch fires, old id refused', async (t) => {
  await raw.withRaw(target, async (watcher) => {
    const owner = await raw.rawConnect(target, { timeOutMs: 2 * TICK_MS });
    t.is(owner.response.timeOut, 2 * TICK_MS);
    t.is((await raw.create(owner, '/sess-expire', { flags: 1, data: Buffer.from('bye') })).err, 0);
    t.is((await raw.exists(watcher, '/sess-expire', true)).err, 0);
    const droppedAt = Date.now();
    await owner.disconnect();
    const [ev] = await watcher.waitForEvents(1, 10000);
    const elapsed = Date.now() - droppedAt;
    t.is(ev?.type, EventType.NodeDeleted);
    t.is(ev?.path, '/sess-expire');
    // Expiry takes at least (most of) the timeout, and not much more than a few ticks beyond it.
    t.true(elapsed >= TICK_MS, `expired after ${elapsed} ms`);
    t.true(elapsed < 20 * TICK_MS, `expired after ${elapsed} ms`);
    t.is((await raw.exists(watcher, '/sess-expire')).err, -101);
    const again = await raw.rawConnect(target, { sessionId: owner.sessionId, passwd: owner.passwd });
    t.is(again.response.timeOut, 0);
    t.is(again.response.sessionId, 0n);
    t.deepEqual(again.response.passwd, Buffer.alloc(16));
    await again.waitForClose(5000);
    t.true(again.closed);
    // node-zookeeper-client reports the same refusal as session expiry.
    const code = await nzk.codeOf(nzk.connect(target.connectString, { sessionId: idBuffer(owner.sessionId), sessionPassword: owner.passwd }));
    t.is(code, -112);
  });
});

test('reconnect within the timeout on a new TCP connection keeps the session and its ephemerals', async (t) => {
  const first = await raw.rawConnect(target, { timeOutMs: 4000 });
  t.is((await raw.create(first, '/sess-resume', { flags: 1 })).err, 0);
  const lastZxid = (await raw.exists(first, '/sess-resume')).zxid;
  await first.disconnect();
  const second = await raw.rawConnect(target, { sessionId: first.sessionId, passwd: first.passwd, timeOutMs: 4000, lastZxidSeen: lastZxid });
  try {
    t.is(second.response.sessionId, first.sessionId);
    t.is(second.response.timeOut, 4000);
    t.deepEqual(second.response.passwd, first.passwd);
    const s = await raw.exists(second, '/sess-resume');
    t.is(s.err, 0);
    t.is(s.res?.ephemeralOwner, first.sessionId);
    t.deepEqual((await raw.getEphemerals(second, '/')).res, ['/sess-resume']);
  } finally {
    await second.close();
  }
  await raw.withRaw(target, async (c) => {
    t.is((await raw.exists(c, '/sess-resume')).err, -101, 'closing the resumed session deleted the ephemeral');
  });
});

test('node-zookeeper-client resumes a session by id and password', async (t) => {
  const first = await raw.rawConnect(target, { timeOutMs: 4000 });
  t.is((await raw.create(first, '/sess-nresume', { flags: 1 })).err, 0);
  await first.disconnect();
  await nzk.withClient(
    target.connectString,
    async (c) => {
      t.is(nzk.sessionIdOf(c), first.sessionId);
      const s = await nzk.exists(c, '/sess-nresume');
      t.is(nzk.long(s?.ephemeralOwner ?? Buffer.alloc(8)), first.sessionId);
    },
    { sessionId: idBuffer(first.sessionId), sessionPassword: first.passwd, sessionTimeoutMs: 4000 },
  );
});

test('a second connection for the same session closes the first one', async (t) => {
  const first = await raw.rawConnect(target, { timeOutMs: 4000 });
  const second = await raw.rawConnect(target, { sessionId: first.sessionId, passwd: first.passwd, timeOutMs: 4000 });
  try {
    t.is(second.response.sessionId, first.sessionId);
    await first.waitForClose(5000);
    t.true(first.closed);
    t.is((await raw.exists(second, '/zookeeper')).err, 0);
  } finally {
    first.socket.destroy();
    await second.close();
  }
});

test('a wrong password or an unknown session id is refused with timeOut 0 and a close', async (t) => {
  const owner = await raw.rawConnect(target, { timeOutMs: 4000 });
  try {
    const wrong = Buffer.from(owner.passwd);
    wrong[0] = (wrong[0] ?? 0) ^ 0xff;
    const bad = await raw.rawConnect(target, { sessionId: owner.sessionId, passwd: wrong });
    t.is(bad.response.timeOut, 0);
    t.is(bad.response.sessionId, 0n);
    t.deepEqual(bad.response.passwd, Buffer.alloc(16));
    await bad.waitForClose(5000);
    const unknown = await raw.rawConnect(target, { sessionId: owner.sessionId + 0x1000n, passwd: owner.passwd });
    t.is(unknown.response.timeOut, 0);
    t.is(unknown.response.sessionId, 0n);
    await unknown.waitForClose(5000);
  } finally {
    owner.socket.destroy();
  }
  // The owner's session is still alive after the failed attempts (the wrong-password attempt
  // may have closed the owner's connection first: a ZooKeeper quirk, ZOOKEEPER.md §1.2).
  const again = await raw.rawConnect(target, { sessionId: owner.sessionId, passwd: owner.passwd, timeOutMs: 4000 });
  t.is(again.response.sessionId, owner.sessionId);
  await again.close();
});

test('a client that has seen a newer zxid than the server gets no ConnectResponse', async (t) => {
  const e = await t.throwsAsync(raw.rawConnect(target, { lastZxidSeen: 0x7fff_0000_0000_0000n, connectTimeoutMs: 5000 }));
  t.regex(e?.message ?? '', /closed before ConnectResponse/);
});

test('requests pipelined behind the ConnectRequest are answered in order after it', async (t) => {
  const frames = await new Promise<Buffer[]>((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const decoder = new FrameDecoder(1 << 20);
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${got.length} frames`));
    }, 5000);
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== null; f = decoder.next()) got.push(Buffer.from(f));
      if (got.length === 4) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      const w = new JuteWriter(256);
      const frame = (write: () => void): void => {
        const at = w.reserveInt();
        write();
        w.patchInt(at, w.length - at - 4);
      };
      frame(() => ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false }));
      // node-zookeeper-client numbers its requests from xid 0.
      for (const xid of [0, 1, 2]) {
        frame(() => {
          RequestHeader.write(w, { xid, type: OpCode.exists });
          w.writeUString(xid === 1 ? '/no-such-node' : '/zookeeper');
          w.writeBool(false);
        });
      }
      socket.write(w.toBuffer());
    });
  });
  const resp = ConnectResponse.decode(frames[0] ?? Buffer.alloc(0));
  t.is(resp.timeOut, 4000);
  const headers = frames.slice(1).map((f) => ReplyHeader.read(new JuteReader(f)));
  t.deepEqual(
    headers.map((h) => [h.xid, h.err]),
    [
      [0, 0],
      [1, -101],
      [2, 0],
    ],
  );
  // The session is dropped with the socket; give it no further thought (it expires on its own).
});

function idBuffer(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(id);
  return b;
}
