// The C client (Debian zookeeper-bin 3.8.0: cli_mt, linked with libzookeeper-mt) against the
// target server, driven line by line on stdin. The C client reads a fixed 41-byte handshake,
// so this also proves the ConnectResponse carries the readOnly byte. Checked against
// ZooKeeper 3.8.0 with ZOORAFT_TEST_TARGET=zookeeper.
import test from 'ava';
import { startTarget } from '../../test/helpers/target.js';
import type { Target } from '../../test/helpers/target.js';
import { Interactive, TOOLS, requireTool } from './run.js';

let target: Target;

test.before(async () => {
  target = await startTarget({});
});

test.after.always(async () => {
  await target.stop();
});

test('cli_mt: connect, create modes, create2 with Stat, set/get, ls, watches, NotEmpty', async (t) => {
  const cliMt = requireTool(TOOLS.cliMt, 'zookeeper-bin');
  const cli = new Interactive(cliMt, [target.connectString]);
  try {
    const hello = await cli.waitFor(/Got a new session id: 0x([0-9a-f]+)/);
    t.regex(hello, /SESSION_EVENT state = CONNECTED_STATE/);

    t.regex(await cli.send('create /cmt', /\[\/cmt\]: rc = (-?\d+)\n\tname = /), /\[\/cmt\]: rc = 0\n\tname = \/cmt\n/);

    const set = await cli.send('set /cmt hello', /\/cmt: rc = -?\d+ Stat:[\s\S]*ephemeralOwner = \S+/);
    t.regex(set, /\/cmt: rc = 0 Stat:/);
    t.regex(set, /version=1\taversion=0/);

    const get = await cli.send('get /cmt', /\/cmt: rc = -?\d+[\s\S]*ephemeralOwner = \S+/);
    t.regex(get, /\/cmt: rc = 0\n value_len = 5\nhello\n/);
    t.regex(get, /version=1\taversion=0/);

    t.regex(await cli.send('create +e /cmt/eph', /\[\/cmt\/eph\]: rc = -?\d+\n\tname = \S+/), /rc = 0\n\tname = \/cmt\/eph\n/);
    t.regex(await cli.send('create +s /cmt/s-', /\[\/cmt\/s-\]: rc = -?\d+\n\tname = \S+/), /rc = 0\n\tname = \/cmt\/s-0000000001\n/);

    const c2 = await cli.send('create2 /cmt/c2', /\[\/cmt\/c2\]: rc = -?\d+\n\tname = \S+[\s\S]*ephemeralOwner = \S+/);
    t.regex(c2, /rc = 0\n\tname = \/cmt\/c2\n/);
    t.regex(c2, /version=0\taversion=0/);

    const ls = await cli.send('ls /cmt', /\/cmt: rc = -?\d+\n(\t\S+\n){3}/);
    const children = [...ls.matchAll(/^\t(\S+)$/gm)].map((m) => m[1] ?? '').sort();
    t.deepEqual(children, ['c2', 'eph', 's-0000000001']);

    t.regex(await cli.send('wexists /cmt/w', /Error -?\d+ for \/cmt\/w/), /Error -101 for \/cmt\/w/);
    const created = await cli.send('create /cmt/w', /\[\/cmt\/w\]: rc = -?\d+\n\tname = \S+/);
    t.regex(created, /rc = 0\n\tname = \/cmt\/w\n/);
    // Both watches fired before the create's reply was printed: the exist watch of wexists
    // and the child watch `ls` left on /cmt.
    t.regex(created, /CREATED_EVENT state = CONNECTED_STATE for path \/cmt\/w\n[\s\S]*\[\/cmt\/w\]: rc = 0/);
    t.regex(created, /CHILD_EVENT state = CONNECTED_STATE for path \/cmt\n[\s\S]*\[\/cmt\/w\]: rc = 0/);

    t.regex(await cli.send('delete /cmt/c2', /\/cmt\/c2: rc = -?\d+/), /\/cmt\/c2: rc = 0/);
    t.regex(await cli.send('delete /cmt', /\/cmt: rc = -?\d+/), /\/cmt: rc = -111/);
  } finally {
    await cli.close();
  }
});
