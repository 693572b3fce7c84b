import test from 'ava';
import { ConnectionTable } from '../../src/server/connection-table.js';
import type { TableEntry } from '../../src/server/connection-table.js';

class Conn implements TableEntry {
  tableSlot = -1;
  constructor(readonly name: string, public sessionId = 0n) {}
}

function names(table: ConnectionTable<Conn>): string[] {
  return [...table].map((c) => c.name).sort();
}

test('connections come and go in any order; the table holds exactly the open ones', (t) => {
  const table = new ConnectionTable<Conn>();
  const conns = Array.from({ length: 6 }, (_, i) => new Conn(`c${i}`));
  for (const c of conns) table.add(c);
  t.is(table.size, 6);
  // Remove from the middle, the end and the start: each removal moves the last one into the hole.
  t.true(table.delete(conns[2] as Conn));
  t.true(table.delete(conns[5] as Conn));
  t.true(table.delete(conns[0] as Conn));
  t.deepEqual(names(table), ['c1', 'c3', 'c4']);
  t.is(table.size, 3);
  for (const c of table) t.is(table.toArray()[c.tableSlot], c, 'each connection knows where it sits');
  t.false(table.delete(conns[2] as Conn), 'a second removal is a no-op');
  t.is((conns[2] as Conn).tableSlot, -1);
  table.add(conns[1] as Conn);
  t.is(table.size, 3, 'adding one already there changes nothing');
});

test('the session index follows a connection that moves, and forgets one that leaves', (t) => {
  const table = new ConnectionTable<Conn>();
  const a = new Conn('a', 1n);
  const b = new Conn('b', 2n);
  const c = new Conn('c', 3n);
  for (const x of [a, b, c]) {
    table.add(x);
    table.bindSession(x);
  }
  table.delete(a); // c moves into a's slot
  t.is(table.forSession(3n), c);
  t.is(table.forSession(2n), b);
  t.is(table.forSession(1n), undefined);
  table.delete(c);
  t.is(table.forSession(3n), undefined);
  t.is(table.forSession(2n), b);
});

test('a reconnect takes the session over; closing the old connection later leaves the new binding alone', (t) => {
  const table = new ConnectionTable<Conn>();
  const old = new Conn('old', 7n);
  const other = new Conn('other', 8n);
  table.add(old);
  table.bindSession(old);
  table.add(other);
  table.bindSession(other);
  const fresh = new Conn('fresh', 7n);
  table.add(fresh);
  table.unbindSession(7n);
  table.bindSession(fresh);
  t.is(table.forSession(7n), fresh);
  table.delete(old); // fresh (the last) moves into old's slot
  t.is(table.forSession(7n), fresh);
  t.is(table.forSession(8n), other);
  t.deepEqual(names(table), ['fresh', 'other']);
});

test('a connection that closed before its session existed is never bound', (t) => {
  const table = new ConnectionTable<Conn>();
  const gone = new Conn('gone', 9n);
  table.add(gone);
  table.delete(gone);
  table.bindSession(gone);
  t.is(table.forSession(9n), undefined);
});
