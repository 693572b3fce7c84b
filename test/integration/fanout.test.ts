// A watch event to many sessions at once (zooraft writes big fan-outs from two threads, see
// src/server/fanout-writer.ts): every watcher hears exactly one event per trigger, the event
// still comes before the reply to the write on the writer's own connection and before any later
// reply on every watching connection, and a watcher whose socket is not being read still gets
// its event, in order, once it reads again. Holds for ZooKeeper 3.8 too (ZOORAFT_TEST_TARGET).
import test from 'ava';
import { startTarget } from '../helpers/target.js';
import type { Target } from '../helpers/target.js';
import * as raw from './lib/raw-ops.js';
import type { RawClient } from './lib/raw-ops.js';
import { EventType } from '../../wire/index.js';

/** More than the server's threshold for writing from two threads (FANOUT_MIN_TARGETS, 512). */
const WATCHERS = 700;

let target: Target;
let clients: RawClient[] = [];

test.before(async () => {
  // ZooKeeper allows 60 connections per address by default.
  target = await startTarget({ settings: { maxClientCnxns: '0' } });
  for (let i = 0; i < WATCHERS; i += 50) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(50, WATCHERS - i) }, () => raw.rawConnect(target)))));
  }
});

test.after.always(async () => {
  await Promise.all(clients.map((c) => c.disconnect().catch(() => undefined)));
  clients = [];
  await target.stop();
});

function dataChanges(c: RawClient, path: string): number {
  return c.events.filter((e) => e.type === EventType.NodeDataChanged && e.path === path).length;
}

test.serial('700 watchers of one node each get one event per trigger, before any later reply', async (t) => {
  const setter = clients[0] as RawClient;
  t.is((await raw.create(setter, '/fan', { data: Buffer.from('0') })).err, 0);
  for (let round = 1; round <= 3; round++) {
    const armed = await Promise.all(clients.map((c) => raw.getData(c, '/fan', true)));
    t.true(armed.every((r) => r.err === 0));
    const set = await raw.setData(setter, '/fan', Buffer.from(String(round)));
    t.is(set.err, 0);
    // The writer also watches: its event was written before the reply to its setData.
    t.is(dataChanges(setter, '/fan'), round);
    // On every other connection the event precedes the reply to a request sent after the change.
    const after = await Promise.all(clients.map((c) => raw.exists(c, '/')));
    t.true(after.every((r) => r.err === 0));
    const counts = clients.map((c) => dataChanges(c, '/fan'));
    t.deepEqual(
      counts.filter((n) => n !== round),
      [],
      `round ${round}: every session has exactly ${round} events`,
    );
  }
  // zooraft wrote these from its helper thread (else this test would not cover it).
  if (target.kind === 'zooraft') t.regex(target.log(), /watch fan-out helper thread started/);
  // A standard watch is used up: a change nobody re-armed for notifies nobody.
  t.is((await raw.setData(setter, '/fan', Buffer.from('x'))).err, 0);
  await Promise.all(clients.map((c) => raw.exists(c, '/')));
  t.deepEqual(
    clients.map((c) => dataChanges(c, '/fan')).filter((n) => n !== 3),
    [],
  );
});

test.serial('a watcher that stops reading gets its event after the replies queued before it', async (t) => {
  const setter = clients[1] as RawClient;
  const slow = clients[2] as RawClient;
  const value = Buffer.alloc(512 * 1024, 0x61);
  t.is((await raw.create(setter, '/fan-slow', { data: value })).err, 0);
  await Promise.all(clients.map((c) => raw.getData(c, '/fan-slow', true)));
  // The slow client stops reading and asks for the big value many times: its replies pile up
  // in the server's output queue, so its event must wait behind them.
  slow.socket.pause();
  const reads = Array.from({ length: 16 }, () => raw.getData(slow, '/fan-slow'));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is((await raw.setData(setter, '/fan-slow', Buffer.from('changed'))).err, 0);
  await Promise.all(clients.filter((c) => c !== slow).map((c) => raw.exists(c, '/')));
  t.deepEqual(
    clients.filter((c) => c !== slow).map((c) => dataChanges(c, '/fan-slow')).filter((n) => n !== 1),
    [],
  );
  t.is(dataChanges(slow, '/fan-slow'), 0, 'nothing read yet');
  slow.socket.resume();
  const got = await Promise.all(reads);
  // The reads were answered before the change (each returns the old value), then the event.
  t.true(got.every((r) => r.err === 0 && r.res?.data?.length === value.length));
  await raw.exists(slow, '/');
  t.is(dataChanges(slow, '/fan-slow'), 1);
});
