// zooraft-only robustness: always runs against zooraft (whatever ZOORAFT_TEST_TARGET says),
// because it restarts the server on its own data folder, kill -9s it and damages its files.
//  - An oversize frame (over jute.maxbuffer) or a frame too short to decode closes that one
//    connection; other sessions on the same server keep working. (The framing rules
//    themselves are checked against real ZooKeeper in errors.test.ts.)
//  - Every acknowledged write survives kill -9 and a restart, with the same Stat.
//  - A torn tail (garbage appended to the newest write-ahead-log file) is cut off at restart
//    with a warning, and every acknowledged write is still there.
// None of this can be confirmed on ZooKeeper: it is zooraft's own storage.
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { startZooraft } from '../helpers/target.js';
import type { ZooraftTarget } from '../helpers/target.js';
import * as raw from './lib/raw-ops.js';
import type { Stat } from './lib/raw-ops.js';

async function withZooraft<T>(opts: Parameters<typeof startZooraft>[0], fn: (z: ZooraftTarget) => Promise<T>): Promise<T> {
  const z = await startZooraft(opts);
  try {
    return await fn(z);
  } finally {
    await z.kill();
    await z.removeData();
  }
}

test('a frame over jute.maxbuffer closes that connection only', async (t) => {
  await withZooraft({ juteMaxBuffer: 4096 }, async (z) => {
    await raw.withRaw(z, async (bystander) => {
      t.is((await raw.create(bystander, '/big-ok', { data: Buffer.alloc(3000, 1) })).err, 0, 'a 3 KB create fits');
      const c = await raw.rawConnect(z);
      try {
        const sent = raw.create(c, '/too-big', { data: Buffer.alloc(8192, 2) });
        await t.throwsAsync(sent, { message: /closed|ECONNRESET|EPIPE/ });
        await c.waitForClose(5000);
        t.true(c.closed);
      } finally {
        c.socket.destroy();
      }
      t.is((await raw.exists(bystander, '/too-big')).err, -101);
      t.is((await raw.create(bystander, '/after-big')).err, 0);
      t.is((await raw.getData(bystander, '/big-ok')).res?.data?.length, 3000);
    });
  });
});

test('a malformed frame closes that connection only; a garbage body is MarshallingError', async (t) => {
  await withZooraft({}, async (z) => {
    await raw.withRaw(z, async (bystander) => {
      const c = await raw.rawConnect(z);
      try {
        // 3 bytes: too short for a RequestHeader.
        c.sendRaw(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
        await c.waitForClose(5000);
        t.true(c.closed);
      } finally {
        c.socket.destroy();
      }
      const d = await raw.rawConnect(z);
      try {
        const reply = new Promise<Buffer>((resolve) => d.socket.once('data', (b: Buffer) => resolve(b)));
        // RequestHeader{xid 9, create} + garbage
        const body = Buffer.concat([Buffer.from([0, 0, 0, 9, 0, 0, 0, 1]), Buffer.from('\xff\xff\x00garbage', 'latin1')]);
        const frame = Buffer.alloc(4 + body.length);
        frame.writeInt32BE(body.length, 0);
        body.copy(frame, 4);
        d.sendRaw(frame);
        const b = await reply;
        t.is(b.readInt32BE(4), 9);
        t.is(b.readInt32BE(16), -5);
        t.is((await raw.exists(d, '/zookeeper')).err, 0, 'the connection still works');
      } finally {
        d.socket.destroy();
      }
      t.is((await raw.create(bystander, '/still-serving', { data: Buffer.from('yes') })).err, 0);
      t.deepEqual((await raw.getData(bystander, '/still-serving')).res?.data, Buffer.from('yes'));
    });
  });
});

const NODES = 150;

/** Writes NODES acknowledged nodes (plus setData and a delete) and returns their Stats. */
async function writeAcknowledged(z: ZooraftTarget): Promise<{ stats: Map<string, Stat>; lastZxid: bigint }> {
  const stats = new Map<string, Stat>();
  let lastZxid = 0n;
  await raw.withRaw(z, async (c) => {
    const parent = await raw.create(c, '/durable', { data: Buffer.from('parent') });
    if (parent.err !== 0) throw new Error(`create /durable: ${parent.err}`);
    for (let i = 0; i < NODES; i++) {
      const r = await raw.create(c, `/durable/n${i}`, { data: Buffer.from(`value-${i}`) });
      if (r.err !== 0) throw new Error(`create n${i}: ${r.err}`);
      lastZxid = r.zxid;
    }
    for (let i = 0; i < NODES; i += 10) {
      const r = await raw.setData(c, `/durable/n${i}`, Buffer.from(`updated-${i}`));
      if (r.err !== 0) throw new Error(`setData n${i}: ${r.err}`);
      lastZxid = r.zxid;
    }
    const del = await raw.remove(c, '/durable/n1');
    if (del.err !== 0) throw new Error(`delete n1: ${del.err}`);
    lastZxid = del.zxid;
    for (const name of (await raw.getChildren(c, '/durable')).res ?? []) {
      const s = await raw.exists(c, `/durable/${name}`);
      if (s.res !== null) stats.set(`/durable/${name}`, s.res);
    }
    const ps = await raw.exists(c, '/durable');
    if (ps.res !== null) stats.set('/durable', ps.res);
  });
  return { stats, lastZxid };
}

async function checkAllThere(t: import('ava').ExecutionContext, z: ZooraftTarget, stats: Map<string, Stat>, lastZxid: bigint): Promise<void> {
  await raw.withRaw(z, async (c) => {
    const children = (await raw.getChildren(c, '/durable')).res ?? [];
    t.is(children.length, NODES - 1);
    t.false(children.includes('n1'), 'the acknowledged delete survived');
    for (const [p, s] of stats) {
      const r = await raw.getData(c, p);
      t.is(r.err, 0, p);
      t.deepEqual(r.res?.stat, s, p);
      if (p !== '/durable') {
        const i = Number(p.slice('/durable/n'.length));
        t.deepEqual(r.res?.data, Buffer.from(i % 10 === 0 ? `updated-${i}` : `value-${i}`), p);
      }
    }
    const after = await raw.create(c, '/after-restart');
    t.is(after.err, 0);
    t.true(after.zxid > lastZxid, 'zxids keep increasing across the restart');
  });
}

test('kill -9 then restart on the same data folder keeps every acknowledged write with the same Stat', async (t) => {
  const z = await startZooraft({});
  let z2: ZooraftTarget | null = null;
  try {
    const { stats, lastZxid } = await writeAcknowledged(z);
    t.is(stats.size, NODES);
    await z.kill();
    z2 = await z.restart();
    t.is(z2.port, z.port);
    await checkAllThere(t, z2, stats, lastZxid);
  } finally {
    await z.kill();
    if (z2 !== null) await z2.kill();
    await z.removeData();
  }
});

/** Every file under dir, recursively. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The newest write-ahead-log file: name contains "log" or "wal"; highest name, then mtime. */
async function newestLogFile(dataDir: string): Promise<string> {
  const files = (await listFiles(dataDir)).filter((f) => /wal|log/i.test(path.basename(f)) && !/\.(lock|json|tmp)$/.test(f));
  if (files.length === 0) throw new Error(`no write-ahead-log file under ${dataDir}: ${(await listFiles(dataDir)).join(', ')}`);
  const withTimes = await Promise.all(files.map(async (f) => ({ f, mtime: (await fs.stat(f)).mtimeMs })));
  withTimes.sort((a, b) => path.basename(a.f).localeCompare(path.basename(b.f)) || a.mtime - b.mtime);
  const newest = withTimes[withTimes.length - 1];
  if (newest === undefined) throw new Error('unreachable');
  return newest.f;
}

test('torn tail: garbage after the last record of the newest log is cut off with a warning; acknowledged writes stay', async (t) => {
  const z = await startZooraft({});
  let z2: ZooraftTarget | null = null;
  try {
    const { stats, lastZxid } = await writeAcknowledged(z);
    await z.kill();
    const file = await newestLogFile(z.dataDir);
    await fs.appendFile(file, Buffer.from('\x00\x00\x01\x00torn-garbage-that-is-no-record\xde\xad\xbe\xef', 'latin1'));
    z2 = await z.restart();
    await checkAllThere(t, z2, stats, lastZxid);
    t.regex(z2.log(), /torn/i, 'the server logs a warning about the torn tail');
  } finally {
    await z.kill();
    if (z2 !== null) await z2.kill();
    await z.removeData();
  }
});
