// A real 3-member zooraft ensemble (three processes of the bundled CLI, Raft between them)
// driven by stock node-zookeeper-client sessions and a raw jute client: replication, reads on
// every member, sync, leader failure, session liveness and expiry decided by the leader,
// quorum loss, and a member catching up from a snapshot after losing its data.
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { ZooraftEnsemble } from '../helpers/ensemble.js';
import * as nzk from '../helpers/nzk.js';
import { RawClient } from '../../compat/raw-client.js';
import { fourLetterWord } from '../../compat/zookeeper-process.js';
import { OpCode, SyncRequest, SyncResponse } from '../../wire/index.js';

const HOST = '127.0.0.1';

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** zooraft's sync through a raw session on one member: resolves once that member has caught up. */
async function syncOn(ensemble: ZooraftEnsemble, id: number, p: string): Promise<void> {
  const c = await RawClient.connect({ host: HOST, port: ensemble.member(id).clientPort, timeOutMs: 4000 });
  try {
    const r = await c.call(OpCode.sync, SyncRequest, { path: p }, SyncResponse);
    if (r.err !== 0 || r.res?.path !== p) throw new Error(`sync on member ${id}: err ${r.err}`);
  } finally {
    await c.close();
  }
}

test.serial('three members elect one leader; writes through any member are read on every member', async (t) => {
  const ensemble = await ZooraftEnsemble.start();
  try {
    const leader = await ensemble.waitForLeader();
    const modes = await Promise.all([1, 2, 3].map((id) => ensemble.modeOf(id)));
    t.deepEqual(modes.filter((m) => m === 'leader').length, 1);
    t.deepEqual(modes.filter((m) => m === 'follower').length, 2);
    t.is(modes[leader - 1], 'leader');
    const clients = await Promise.all([1, 2, 3].map((id) => nzk.connect(ensemble.connectString([id]))));
    try {
      const [c1, c2, c3] = clients as [nzk.Client, nzk.Client, nzk.Client];
      await nzk.create(c1, '/app', Buffer.from('one'));
      const seqs = [];
      for (const c of [c1, c2, c3, c2]) seqs.push(await nzk.create(c, '/app/job-', null, nzk.zookeeper.CreateMode.PERSISTENT_SEQUENTIAL));
      // One sequence counter for the whole ensemble, whichever member takes the create.
      t.deepEqual(seqs, ['/app/job-0000000000', '/app/job-0000000001', '/app/job-0000000002', '/app/job-0000000003']);
      const stat = await nzk.setData(c3, '/app', Buffer.from('three'));
      t.is(stat.version, 1);
      // A client reads its own write on its own member at once; the others after sync.
      t.is((await nzk.getData(c3, '/app')).data?.toString(), 'three');
      for (const id of [1, 2]) await syncOn(ensemble, id, '/app');
      for (const c of clients) {
        const got = await nzk.getData(c, '/app');
        t.is(got.data?.toString(), 'three');
        t.is(got.stat.version, 1);
        t.is((await nzk.getChildren(c, '/app')).children.length, 4);
      }
      // Errors decided by the leader come back through a follower unchanged.
      t.is(await nzk.codeOf(nzk.create(c2, '/app', null)), -110);
      t.is(await nzk.codeOf(nzk.setData(c2, '/app', Buffer.from('x'), 0)), -103);
      // A watch set on a follower fires for a write made through another member.
      const fired = new Promise<string>((resolve) => {
        c2.getData('/app', (event) => resolve(event.getName()), () => {});
      });
      await nzk.setData(c1, '/app', Buffer.from('again'));
      t.is(await fired, 'NODE_DATA_CHANGED');
    } finally {
      await Promise.all(clients.map((c) => nzk.close(c)));
    }
  } finally {
    await ensemble.stop();
  }
});

test.serial('kill -9 of the leader: a new leader is elected, acknowledged writes survive, the old leader catches up', async (t) => {
  const ensemble = await ZooraftEnsemble.start();
  try {
    const first = await ensemble.waitForLeader();
    const followers = [1, 2, 3].filter((id) => id !== first);
    await nzk.withClient(ensemble.connectString([followers[0] as number]), async (c) => {
      await nzk.create(c, '/kept');
      for (let i = 0; i < 50; i++) await nzk.create(c, `/kept/n${i}`, Buffer.from(String(i)));
    });
    await ensemble.killMember(first);
    const second = await ensemble.waitForLeader(15000);
    t.not(second, first);
    await nzk.withClient(ensemble.connectString(followers), async (c) => {
      t.is((await nzk.getChildren(c, '/kept')).children.length, 50);
      await nzk.create(c, '/after');
      for (let i = 50; i < 60; i++) await nzk.create(c, `/kept/n${i}`);
    });
    await ensemble.startMember(first);
    await ensemble.waitForLeader(15000);
    await until('the old leader applies the new writes', async () => {
      await syncOn(ensemble, first, '/');
      return nzk.withClient(ensemble.connectString([first]), async (c) => ((await nzk.getChildren(c, '/kept')).children.length === 60 ? true : null));
    });
    await nzk.withClient(ensemble.connectString([first]), async (c) => {
      t.not(await nzk.exists(c, '/after'), null);
      t.is((await nzk.getData(c, '/kept/n7')).data?.toString(), '7');
    });
  } finally {
    await ensemble.stop();
  }
});

test.serial('sessions: kept alive through a follower, moved between members, expired by the leader', async (t) => {
  const ensemble = await ZooraftEnsemble.start();
  try {
    const leader = await ensemble.waitForLeader();
    const [f1, f2] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    // Connected only to a follower, idle far past its 1.2 s timeout: the follower's reports
    // to the leader keep it alive.
    const c = await nzk.connect(ensemble.connectString([f1]), { sessionTimeoutMs: 1200 });
    let expiredEvent = false;
    c.once('expired', () => {
      expiredEvent = true;
    });
    await nzk.create(c, '/eph', null, nzk.zookeeper.CreateMode.EPHEMERAL);
    await new Promise((r) => setTimeout(r, 3000));
    await nzk.withClient(ensemble.connectString([leader]), async (other) => {
      t.not(await nzk.exists(other, '/eph'), null, 'the ephemeral node outlived 2.5 session timeouts');
    });
    t.false(expiredEvent);
    // Its member goes away and it cannot reach another one: the leader expires it.
    await ensemble.stopMember(f1);
    await until('the ephemeral node is gone on the other members', () =>
      nzk.withClient(ensemble.connectString([f2]), async (other) => {
        await syncOn(ensemble, f2, '/');
        return (await nzk.exists(other, '/eph')) === null ? true : null;
      }),
    );
    c.close();
    // A session moves: connected to one follower, its member stops, it reconnects elsewhere.
    await ensemble.startMember(f1);
    await ensemble.waitForLeader();
    const mover = await nzk.connect(ensemble.connectString([f2, leader]), { sessionTimeoutMs: 4000 });
    try {
      await nzk.create(mover, '/moving', null, nzk.zookeeper.CreateMode.EPHEMERAL);
      const sessionBefore = nzk.sessionIdOf(mover);
      const sid = `sid=0x${sessionBefore.toString(16)}`;
      let servedBy: number | undefined;
      for (const id of [f2, leader]) if ((await fourLetterWord(HOST, ensemble.member(id).clientPort, 'cons')).includes(sid)) servedBy = id;
      if (servedBy === undefined) return t.fail('no member lists the session in cons');
      await ensemble.stopMember(servedBy);
      await until('the client is connected again', async () => (mover.getState() === nzk.zookeeper.State.SYNC_CONNECTED ? true : null));
      t.is(nzk.sessionIdOf(mover), sessionBefore, 'same session after moving');
      t.not(await nzk.exists(mover, '/moving'), null);
    } finally {
      await nzk.close(mover);
    }
  } finally {
    await ensemble.stop();
  }
});

test.serial('a member without a quorum serves nobody', async (t) => {
  const ensemble = await ZooraftEnsemble.start();
  try {
    const leader = await ensemble.waitForLeader();
    const [f1, f2] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    await ensemble.stopMember(f1);
    await ensemble.stopMember(f2);
    // The leader hears from no follower for an election timeout and steps down.
    await until('the lone member stops serving', async () => ((await ensemble.modeOf(leader)) === null ? true : null));
    t.is(await nzk.codeOf(nzk.connect(ensemble.connectString([leader]), { timeoutMs: 2000 })), -4);
    await ensemble.startMember(f1);
    const back = await ensemble.waitForLeader(15000);
    t.true(back === leader || back === f1);
    await nzk.withClient(ensemble.connectString([leader, f1]), async (c) => {
      await nzk.create(c, '/quorum-again');
      t.not(await nzk.exists(c, '/quorum-again'), null);
    });
  } finally {
    await ensemble.stop();
  }
});

test.serial('a member that lost its data catches up from the leader\'s snapshot', async (t) => {
  const ensemble = await ZooraftEnsemble.start({ settings: { snapCount: '20' } });
  try {
    const leader = await ensemble.waitForLeader();
    const lost = [1, 2, 3].find((id) => id !== leader) as number;
    // A session made before the member goes: it must be able to move there afterwards.
    const keeper = await nzk.connect(ensemble.connectString([leader]), { sessionTimeoutMs: 4000 });
    t.teardown(() => keeper.close());
    await ensemble.stopMember(lost);
    const dir = ensemble.member(lost).dataDir;
    for (const name of await fs.readdir(dir)) if (name !== 'myid') await fs.rm(path.join(dir, name), { recursive: true, force: true });
    await nzk.withClient(ensemble.connectString([leader]), async (c) => {
      await nzk.create(c, '/many');
      for (let i = 0; i < 200; i++) await nzk.create(c, `/many/n${i}`, Buffer.from(`value ${i}`));
    });
    await ensemble.startMember(lost);
    await ensemble.waitForLeader();
    await until('the member has every node', async () => {
      await syncOn(ensemble, lost, '/');
      return nzk.withClient(ensemble.connectString([lost]), async (c) => ((await nzk.getChildren(c, '/many')).children.length === 200 ? true : null));
    }, 20000);
    await nzk.withClient(ensemble.connectString([lost]), async (c) => {
      t.is((await nzk.getData(c, '/many/n123')).data?.toString(), 'value 123');
    });
    const moved = await nzk.connect(ensemble.connectString([lost]), { sessionId: keeper.getSessionId(), sessionPassword: keeper.getSessionPassword(), timeoutMs: 5000 });
    t.is(nzk.sessionIdOf(moved), nzk.sessionIdOf(keeper), 'the caught-up member knows the session from the snapshot');
    moved.close();
    const log = ensemble.member(lost).process?.logLines.join('\n') ?? '';
    t.true(log.includes('installed a snapshot from the leader'), 'caught up through a snapshot, not the log alone');
  } finally {
    await ensemble.stop();
  }
});
