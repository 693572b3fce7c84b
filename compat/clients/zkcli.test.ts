// ZooKeeper's own Java CLI (Debian zookeeper 3.8.0: /usr/share/zookeeper/bin/zkCli.sh, i.e. the
// stock Java client) against the target server, fed a script on stdin. Checked against
// ZooKeeper 3.8.0 with ZOORAFT_TEST_TARGET=zookeeper.
import test from 'ava';
import { startTarget } from '../../test/helpers/target.js';
import type { Target } from '../../test/helpers/target.js';
import { TOOLS, requireTool, run } from './run.js';

let target: Target;

test.before(async () => {
  target = await startTarget({});
});

test.after.always(async () => {
  await target.stop();
});

const SCRIPT = [
  'create /zkcli hello',
  'create -e /zkcli/eph e',
  'create -s /zkcli/seq- s',
  'create -c /zkcli/cont',
  'get /zkcli',
  'set /zkcli world',
  'get -s /zkcli',
  'ls /zkcli',
  'getAcl /zkcli',
  'addauth digest bob:secret',
  'setAcl /zkcli/cont auth::cdrwa',
  'getAcl /zkcli/cont',
  'whoami',
  'delete /zkcli/seq-0000000001',
  'create /zkcli again',
  'delete /zkcli/nope',
  'deleteall /zkcli/cont',
  'ls /zkcli',
  'sync /zkcli',
  'quit',
];

test('zkCli.sh: create modes, get/set with Stat, ls, ACLs with digest auth, whoami, deletes, sync', async (t) => {
  const zkCli = requireTool(TOOLS.zkCli, 'zookeeper');
  // zkCli prints results on stdout and some confirmations ("Created ...") and errors on
  // stderr: one pipe for both keeps them in order.
  const r = await run('/bin/sh', ['-c', '"$0" -server "$1" 2>&1', zkCli, target.connectString], {
    input: `${SCRIPT.join('\n')}\n`,
    timeoutMs: 60000,
  });
  const lines = r.stdout
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !l.startsWith('SLF4J') && !l.startsWith('WATCHER::') && !l.startsWith('WatchedEvent'));
  const from = lines.indexOf('Created /zkcli');
  t.true(from >= 0, r.stdout);
  const out = lines.slice(from);
  const stat = (dataVersion: number): RegExp[] => [
    /^cZxid = 0x[0-9a-f]+$/,
    /^ctime = .+$/,
    /^mZxid = 0x[0-9a-f]+$/,
    /^mtime = .+$/,
    /^pZxid = 0x[0-9a-f]+$/,
    /^cversion = 3$/,
    new RegExp(`^dataVersion = ${dataVersion}$`),
    /^aclVersion = 0$/,
    /^ephemeralOwner = 0x0$/,
    /^dataLength = 5$/,
    /^numChildren = 3$/,
  ];
  const expected: Array<string | RegExp> = [
    'Created /zkcli',
    'Created /zkcli/eph',
    'Created /zkcli/seq-0000000001',
    'Created /zkcli/cont',
    'hello',
    'world',
    ...stat(1),
    '[cont, eph, seq-0000000001]',
    "'world,'anyone",
    ': cdrwa',
    "'digest,'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=",
    ': cdrwa',
    'Auth scheme: User',
    'digest: bob',
    'ip: 127.0.0.1',
    'Node already exists: /zkcli',
    'Node does not exist: /zkcli/nope',
    '[eph]',
    'Sync is OK',
  ];
  t.is(out.length, expected.length, out.join('\n'));
  expected.forEach((e, i) => {
    const line = out[i] ?? '';
    if (typeof e === 'string') t.is(line, e, `line ${i}`);
    else t.regex(line, e, `line ${i}`);
  });
});
