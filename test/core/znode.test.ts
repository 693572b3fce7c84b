import test from 'ava';
import { ZNode } from '../../src/core/znode.js';
import { NodeKind } from '../../src/core/txn.js';
import { OPEN_ACL_UNSAFE } from '../../src/core/acl.js';

// Times are stored split into two small integers; every safe integer must come back exactly.
test('ctime and mtime round-trip exactly through the split representation', (t) => {
  const times = [0, 1, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 1_795_319_408_420, Number.MAX_SAFE_INTEGER, -1, -(2 ** 30) - 7, Number.MIN_SAFE_INTEGER];
  for (const ms of times) {
    const node = new ZNode('x', [...OPEN_ACL_UNSAFE], 5, ms, NodeKind.persistent, 0n, 0);
    t.is(node.ctime, ms, `ctime ${ms}`);
    t.is(node.mtime, ms, `mtime at create ${ms}`);
    const later = ms > 0 ? ms - 12345 : ms + 12345;
    node.mtime = later;
    t.is(node.mtime, later, `mtime after set ${later}`);
    t.is(node.ctime, ms, `ctime unchanged ${ms}`);
    const copy = node.clone();
    t.is(copy.ctime, node.ctime);
    t.is(copy.mtime, node.mtime);
  }
});
