// ACLs and authentication (ZOOKEEPER.md §7): world, auth (CREATOR_ALL expanded to the caller's
// authenticated ids), digest, ip with CIDR, the super digest, per-operation permission checks
// and their order, getACL masking, whoAmI, and AuthFailed for an unknown scheme.
// All expectations were checked on ZooKeeper 3.8.0 (ZOORAFT_TEST_TARGET=zookeeper).
import test from 'ava';
import { startTarget } from '../helpers/target.js';
import type { Target } from '../helpers/target.js';
import * as nzk from '../helpers/nzk.js';
import * as raw from './lib/raw-ops.js';
import type { ACL } from './lib/raw-ops.js';
import { ErrorCode, Perms } from '../../wire/index.js';

let target: Target;

test.before(async () => {
  target = await startTarget({});
});

test.after.always(async () => {
  await target.stop();
});

const E = ErrorCode;
const BOB_ID = 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=';

function digestAcl(perms: number, id: string): ACL {
  return { perms, id: { scheme: 'digest', id } };
}
function ipAcl(perms: number, id: string): ACL {
  return { perms, id: { scheme: 'ip', id } };
}
function worldAcl(perms: number): ACL {
  return { perms, id: { scheme: 'world', id: 'anyone' } };
}

test('digest ids are user:base64(sha1("user:password"))', (t) => {
  t.is(raw.digestId('bob:secret'), BOB_ID);
});

test('auth scheme: CREATOR_ALL expands to every digest id of the caller; ip is not included', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/acl-creator-none', { acl: raw.CREATOR_ALL_ACL })).err, E.InvalidACL);
    t.is(await raw.addAuth(c, 'digest', 'bob:secret'), 0);
    t.is(await raw.addAuth(c, 'digest', 'alice:pw'), 0);
    t.is((await raw.create(c, '/acl-creator', { acl: raw.CREATOR_ALL_ACL, data: Buffer.from('mine') })).err, 0);
    const acl = (await raw.getACL(c, '/acl-creator')).res?.acl ?? [];
    t.deepEqual(
      [...acl].sort((a, b) => a.id.id.localeCompare(b.id.id)),
      [digestAcl(31, raw.digestId('alice:pw')), digestAcl(31, BOB_ID)],
    );
    // setACL with the auth scheme expands the same way.
    t.is((await raw.create(c, '/acl-creator2')).err, 0);
    t.is((await raw.setACL(c, '/acl-creator2', [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'auth', id: 'ignored' } }])).err, 0);
    const acl2 = (await raw.getACL(c, '/acl-creator2')).res?.acl ?? [];
    t.deepEqual(
      [...acl2].sort((a, b) => a.id.id.localeCompare(b.id.id)),
      [digestAcl(17, raw.digestId('alice:pw')), digestAcl(17, BOB_ID)],
    );
  });
  await raw.withRaw(target, async (other) => {
    t.is((await raw.getData(other, '/acl-creator')).err, E.NoAuth);
    t.is(await raw.addAuth(other, 'digest', 'bob:secret'), 0);
    t.deepEqual((await raw.getData(other, '/acl-creator')).res?.data, Buffer.from('mine'));
  });
});

test('digest ACL: only sessions authenticated with the right password get in', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/acl-digest', { data: Buffer.from('secret data'), acl: [digestAcl(31, BOB_ID)] })).err, 0);
    t.is((await raw.getData(c, '/acl-digest')).err, E.NoAuth);
    t.is((await raw.getChildren(c, '/acl-digest')).err, E.NoAuth);
    t.is((await raw.setData(c, '/acl-digest', Buffer.from('x'))).err, E.NoAuth);
    t.is((await raw.create(c, '/acl-digest/k')).err, E.NoAuth);
    // A wrong password is accepted as auth (digest never fails), it just yields another id.
    t.is(await raw.addAuth(c, 'digest', 'bob:wrong'), 0);
    t.is((await raw.getData(c, '/acl-digest')).err, E.NoAuth);
    t.is(await raw.addAuth(c, 'digest', 'bob:secret'), 0);
    t.deepEqual((await raw.getData(c, '/acl-digest')).res?.data, Buffer.from('secret data'));
    t.is((await raw.create(c, '/acl-digest/k')).err, 0);
  });
  await nzk.withClient(
    target.connectString,
    async (c) => {
      t.deepEqual((await nzk.getData(c, '/acl-digest')).data, Buffer.from('secret data'));
      await nzk.create(c, '/acl-digest/n', null, 0, nzk.zookeeper.ACL.CREATOR_ALL_ACL);
      const { acls } = await nzk.getACL(c, '/acl-digest/n');
      t.is(acls.length, 1);
      t.is(acls[0]?.id.scheme, 'digest');
      t.is(acls[0]?.id.id, BOB_ID);
    },
    { auth: [['digest', 'bob:secret']] },
  );
  await nzk.withClient(target.connectString, async (c) => {
    t.is(await nzk.codeOf(nzk.getData(c, '/acl-digest')), E.NoAuth);
  });
});

test('ip ACL: 127.0.0.1 and 127.0.0.0/8 match this client, 10.0.0.0/8 does not', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.is((await raw.create(c, '/acl-ip-exact', { data: Buffer.from('a'), acl: [ipAcl(31, '127.0.0.1')] })).err, 0);
    t.is((await raw.create(c, '/acl-ip-net', { data: Buffer.from('b'), acl: [ipAcl(31, '127.0.0.0/8')] })).err, 0);
    t.is((await raw.create(c, '/acl-ip-other', { data: Buffer.from('c'), acl: [ipAcl(31, '10.0.0.0/8')] })).err, 0);
    t.deepEqual((await raw.getData(c, '/acl-ip-exact')).res?.data, Buffer.from('a'));
    t.deepEqual((await raw.getData(c, '/acl-ip-net')).res?.data, Buffer.from('b'));
    t.is((await raw.getData(c, '/acl-ip-other')).err, E.NoAuth);
    t.is((await raw.setData(c, '/acl-ip-other', null)).err, E.NoAuth);
    t.is((await raw.create(c, '/acl-ip-exact/k')).err, 0);
  });
});

test('each operation checks its own permission: CREATE/DELETE on the parent, WRITE, ADMIN, READ on the node', async (t) => {
  await raw.withRaw(target, async (c) => {
    const only = async (path: string, perms: number): Promise<void> => {
      t.is((await raw.create(c, path, { data: Buffer.from('d'), acl: [worldAcl(perms)] })).err, 0);
    };
    await only('/acl-p-read', Perms.READ);
    t.is((await raw.getData(c, '/acl-p-read')).err, 0);
    t.is((await raw.getChildren2(c, '/acl-p-read')).err, 0);
    t.is((await raw.getAllChildrenNumber(c, '/acl-p-read')).err, 0);
    t.is((await raw.setData(c, '/acl-p-read', null)).err, E.NoAuth);
    t.is((await raw.setACL(c, '/acl-p-read', raw.OPEN_ACL)).err, E.NoAuth);
    t.is((await raw.create(c, '/acl-p-read/k')).err, E.NoAuth);

    await only('/acl-p-write', Perms.WRITE);
    t.is((await raw.getData(c, '/acl-p-write')).err, E.NoAuth);
    t.is((await raw.getChildren(c, '/acl-p-write')).err, E.NoAuth);
    t.is((await raw.getAllChildrenNumber(c, '/acl-p-write')).err, E.NoAuth);
    t.is((await raw.setData(c, '/acl-p-write', Buffer.from('w'))).err, 0);
    t.is((await raw.multiRead(c, [{ type: 4, req: { path: '/acl-p-write', watch: false } }])).res?.[0]?.type, -1);

    await only('/acl-p-create', Perms.CREATE);
    t.is((await raw.create(c, '/acl-p-create/k')).err, 0);
    t.is((await raw.remove(c, '/acl-p-create/k')).err, E.NoAuth, 'delete needs DELETE on the parent');
    // DELETE on the parent is checked before the child's existence.
    t.is((await raw.remove(c, '/acl-p-create/missing')).err, E.NoAuth);

    await only('/acl-p-delete', Perms.DELETE);
    t.is((await raw.create(c, '/acl-p-delete/k')).err, E.NoAuth);
    t.is((await raw.remove(c, '/acl-p-delete/missing')).err, E.NoNode);

    await only('/acl-p-admin', Perms.ADMIN);
    t.is((await raw.setACL(c, '/acl-p-admin', [worldAcl(Perms.READ | Perms.ADMIN)])).err, 0);
    t.deepEqual((await raw.getData(c, '/acl-p-admin')).res?.data, Buffer.from('d'));

    // Permission values are not validated.
    t.is((await raw.create(c, '/acl-p-zero', { acl: [worldAcl(0)] })).err, 0);
    t.is((await raw.getData(c, '/acl-p-zero')).err, E.NoAuth);
    t.is((await raw.create(c, '/acl-p-255', { acl: [worldAcl(255)] })).err, 0);
    t.deepEqual((await raw.getACL(c, '/acl-p-255')).res?.acl, [worldAcl(255)]);
    // sync and getEphemerals need no permission.
    t.is((await raw.sync(c, '/acl-p-zero')).err, 0);
    t.is((await raw.getEphemerals(c, '/acl-p-zero')).err, 0);
  });
});

test('getACL masks digest ids without ADMIN and shows them with it', async (t) => {
  await raw.withRaw(target, async (c) => {
    const acl = [digestAcl(Perms.ALL, BOB_ID), worldAcl(Perms.READ)];
    t.is((await raw.create(c, '/acl-mask', { acl })).err, 0);
    const masked = await raw.getACL(c, '/acl-mask');
    t.is(masked.err, 0);
    t.deepEqual(masked.res?.acl, [digestAcl(Perms.ALL, 'bob:x'), worldAcl(Perms.READ)]);
    // ADMIN alone is enough and shows the ids unmasked; neither READ nor ADMIN is NoAuth.
    const adminOnly = [worldAcl(Perms.ADMIN), digestAcl(Perms.ALL, BOB_ID)];
    t.is((await raw.create(c, '/acl-mask-admin', { acl: adminOnly })).err, 0);
    t.deepEqual((await raw.getACL(c, '/acl-mask-admin')).res?.acl, adminOnly);
    t.is((await raw.create(c, '/acl-mask-none', { acl: [digestAcl(Perms.ALL, BOB_ID)] })).err, 0);
    t.is((await raw.getACL(c, '/acl-mask-none')).err, E.NoAuth);
    t.is(await raw.addAuth(c, 'digest', 'bob:secret'), 0);
    t.deepEqual((await raw.getACL(c, '/acl-mask')).res?.acl, acl);
    t.deepEqual((await raw.getACL(c, '/acl-mask-none')).res?.acl, [digestAcl(Perms.ALL, BOB_ID)]);
  });
});

test('whoAmI lists the connection’s ids: ip always, digest after auth', async (t) => {
  await raw.withRaw(target, async (c) => {
    t.deepEqual((await raw.whoAmI(c)).res, [{ authScheme: 'ip', user: '127.0.0.1' }]);
    t.is(await raw.addAuth(c, 'digest', 'bob:secret'), 0);
    const who = (await raw.whoAmI(c)).res ?? [];
    t.deepEqual(
      [...who].sort((a, b) => a.authScheme.localeCompare(b.authScheme)),
      [
        { authScheme: 'digest', user: 'bob' },
        { authScheme: 'ip', user: '127.0.0.1' },
      ],
    );
  });
});

test('auth is per connection: a resumed session must authenticate again', async (t) => {
  const first = await raw.rawConnect(target, { timeOutMs: 4000 });
  t.is(await raw.addAuth(first, 'digest', 'bob:secret'), 0);
  t.is((await raw.create(first, '/acl-perconn', { acl: [digestAcl(31, BOB_ID)] })).err, 0);
  await first.disconnect();
  const second = await raw.rawConnect(target, { sessionId: first.sessionId, passwd: first.passwd, timeOutMs: 4000 });
  try {
    t.is((await raw.getData(second, '/acl-perconn')).err, E.NoAuth);
    t.is(await raw.addAuth(second, 'digest', 'bob:secret'), 0);
    t.is((await raw.getData(second, '/acl-perconn')).err, 0);
  } finally {
    await second.close();
  }
});

test('an unknown auth scheme gets AuthFailed (-115) and the connection is closed', async (t) => {
  const c = await raw.rawConnect(target);
  try {
    t.is((await raw.create(c, '/acl-authfail')).err, 0);
    t.is(await raw.addAuth(c, 'nosuchscheme', 'whatever'), E.AuthFailed);
    await c.waitForClose(5000);
    t.true(c.closed);
  } finally {
    c.socket.destroy();
  }
  const failed = await new Promise<boolean>((resolve) => {
    const client = nzk.zookeeper.createClient(target.connectString, { sessionTimeout: 4000, retries: 0 });
    const timer = setTimeout(() => {
      client.close();
      resolve(false);
    }, 10000);
    client.once('authenticationFailed', () => {
      clearTimeout(timer);
      client.close();
      resolve(true);
    });
    client.addAuthInfo('nosuchscheme', Buffer.from('whatever'));
    client.connect();
  });
  t.true(failed, 'node-zookeeper-client reports authenticationFailed');
});

test('super digest: the super user passes every ACL check', async (t) => {
  const superTarget = await startTarget({ superDigest: raw.digestId('super:letmein') });
  try {
    await raw.withRaw(superTarget, async (c) => {
      t.is(await raw.addAuth(c, 'digest', 'bob:secret'), 0);
      t.is((await raw.create(c, '/locked', { data: Buffer.from('bob only'), acl: [digestAcl(Perms.ALL, BOB_ID)] })).err, 0);
      t.is((await raw.create(c, '/locked/child', { acl: [worldAcl(0)] })).err, 0);
    });
    await raw.withRaw(superTarget, async (c) => {
      t.is((await raw.getData(c, '/locked')).err, E.NoAuth);
      t.is(await raw.addAuth(c, 'digest', 'super:wrong'), 0);
      t.is((await raw.getData(c, '/locked')).err, E.NoAuth);
      t.is(await raw.addAuth(c, 'digest', 'super:letmein'), 0);
      t.deepEqual((await raw.getData(c, '/locked')).res?.data, Buffer.from('bob only'));
      t.deepEqual((await raw.getACL(c, '/locked')).res?.acl, [digestAcl(Perms.ALL, BOB_ID)], 'super sees unmasked ids');
      t.is((await raw.getData(c, '/locked/child')).err, 0);
      t.is((await raw.setData(c, '/locked', Buffer.from('taken'))).err, 0);
      t.is((await raw.remove(c, '/locked/child')).err, 0);
      t.is((await raw.setACL(c, '/locked', raw.OPEN_ACL)).err, 0);
      // CREATOR_ALL expands to the digest ids of both auth packets (the wrong password too);
      // the super id itself is not added.
      t.is((await raw.create(c, '/by-super', { acl: raw.CREATOR_ALL_ACL })).err, 0);
      const acl = (await raw.getACL(c, '/by-super')).res?.acl ?? [];
      t.deepEqual(
        acl.map((a) => `${a.perms} ${a.id.scheme}:${a.id.id}`).sort(),
        [`31 digest:${raw.digestId('super:letmein')}`, `31 digest:${raw.digestId('super:wrong')}`].sort(),
      );
    });
  } finally {
    await superTarget.stop();
  }
});

test('watch notifications reach only watchers with READ on the changed node (CVE-2024-23944)', async (t) => {
  // Debian's 3.8.0-11+deb12u2 (our oracle) carries this fix, as do 3.8.4+/3.9.2+.
  await raw.withRaw(target, async (w) => {
    await raw.withRaw(target, async (m) => {
      t.is((await raw.create(m, '/acl-watch')).err, 0);
      t.is((await raw.addWatch(w, '/acl-watch', 1)).err, 0);
      t.is(await raw.addAuth(m, 'digest', 'bob:secret'), 0);
      t.is((await raw.create(m, '/acl-watch/hidden', { acl: [digestAcl(Perms.ALL, BOB_ID)] })).err, 0);
      // exists needs no READ on 3.8.0 (that check came in 3.8.4), so the watch is set either way.
      t.is((await raw.getData(w, '/acl-watch/hidden', true)).err, E.NoAuth);
      t.is((await raw.setData(m, '/acl-watch/hidden', Buffer.from('x'))).err, 0);
      t.is((await raw.create(m, '/acl-watch/open')).err, 0);
      t.is((await raw.remove(m, '/acl-watch/hidden')).err, 0);
      t.is((await raw.setData(m, '/acl-watch/open', Buffer.from('y'))).err, 0);
      await w.waitForEvents(2);
      t.is((await raw.exists(w, '/')).err, 0);
      t.deepEqual(
        w.events.map((e) => [e.type, e.path]),
        [
          [1, '/acl-watch/open'],
          [3, '/acl-watch/open'],
        ],
      );
    });
  });
});
