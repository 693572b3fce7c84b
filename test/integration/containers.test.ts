// Container and TTL reaping (ContainerManager): an empty container that once had children is
// deleted; one that never had a child stays; a TTL node with no children goes once it has not
// been modified for its ttl. zooraft only: ZooKeeper reads znode.container.checkIntervalMs as a
// JVM system property, which the ZooKeeper harness cannot set, and 60 s is too long for a test.
import test from 'ava';
import { OpCode } from '../../wire/index.js';
import { startZooraft } from '../helpers/target.js';
import type { ZooraftTarget } from '../helpers/target.js';
import * as raw from './lib/raw-ops.js';

const E = { OK: 0, NoNode: -101 };
let target: ZooraftTarget;

test.before(async () => {
  target = await startZooraft({ extendedTypes: true, settings: { 'znode.container.checkIntervalMs': '100' } });
});

test.after.always(async () => {
  await target.stop();
});

/** Polls until fn is true or the deadline passes; returns the final value. */
async function eventually(fn: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('an emptied container is reaped; a never-used one and a non-empty one stay', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/lock', { op: OpCode.createContainer })).err, E.OK);
    t.is((await raw.create(c, '/fresh', { op: OpCode.createContainer })).err, E.OK);
    t.is((await raw.create(c, '/busy', { op: OpCode.createContainer })).err, E.OK);
    t.is((await raw.create(c, '/lock/holder')).err, E.OK);
    t.is((await raw.create(c, '/busy/holder')).err, E.OK);
    t.is((await raw.remove(c, '/lock/holder')).err, E.OK);
    const watched = await raw.exists(c, '/lock', true);
    t.is(watched.err, E.OK);
    t.true(await eventually(async () => (await raw.exists(c, '/lock')).err === E.NoNode), 'emptied container reaped');
    const events = await c.waitForEvents(1);
    t.deepEqual(events.map((e) => [e.type, e.path]), [[2, '/lock']]);
    t.is((await raw.exists(c, '/fresh')).err, E.OK, 'a container that never had a child stays');
    t.is((await raw.exists(c, '/busy')).err, E.OK, 'a container with children stays');
  });
});

test('a TTL node expires once unmodified for its ttl; one with children stays', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/ttl-short', { op: OpCode.createTTL, flags: 5, ttl: 300n })).err, E.OK);
    t.is((await raw.create(c, '/ttl-parent', { op: OpCode.createTTL, flags: 5, ttl: 300n })).err, E.OK);
    t.is((await raw.create(c, '/ttl-parent/child')).err, E.OK);
    t.is((await raw.create(c, '/ttl-long', { op: OpCode.createTTL, flags: 5, ttl: 600000n })).err, E.OK);
    t.true(await eventually(async () => (await raw.exists(c, '/ttl-short')).err === E.NoNode), 'short TTL node reaped');
    t.is((await raw.exists(c, '/ttl-parent')).err, E.OK, 'TTL node with a child stays');
    t.is((await raw.exists(c, '/ttl-long')).err, E.OK, 'long TTL node stays');
  });
});
