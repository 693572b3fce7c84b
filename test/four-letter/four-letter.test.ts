// Four-letter word formatting, word by word. Expected texts are those of a live ZooKeeper 3.8.0
// in the same state as fake-context.ts (version and build date aside).
import test from 'ava';
import * as fs from 'node:fs';
import { defaultConfig } from '../../src/config.js';
import {
  FOUR_LETTER_WORDS, formatJavaDate, formatSocketAddress, fourLetterCode, fourLetterWordOf, hex64,
  isFourLetterWordEnabled, javaDouble, readEnvironment, runFourLetterWord,
} from '../../src/server/four-letter.js';
import type { SummaryStat } from '../../src/server/four-letter.js';
import { fakeContext } from './fake-context.js';

const VERSION_LINE = 'Zookeeper version: 3.8.0-zooraft-0.1.0, built on 2024-12-29 17:54 UTC\n';
const COUNTERS_TAIL = 'Latency min/avg/max: 0/4.1818/20\nReceived: 27\nSent: 26\nConnections: 2\nOutstanding: 0\nZxid: 0x4\nMode: standalone\nNode count: 8\n';

test('fourLetterCode is the big-endian int of the 4 ASCII bytes, and maps back', (t) => {
  t.is(fourLetterCode('ruok'), 0x72756f6b);
  t.is(fourLetterCode('srvr'), Buffer.from('srvr').readInt32BE(0));
  t.is(fourLetterWordOf(Buffer.from('mntr').readInt32BE(0)), 'mntr');
  t.is(fourLetterWordOf(45), null);
  t.throws(() => fourLetterCode('abc'));
  t.is(FOUR_LETTER_WORDS.size, 17);
});

test('ruok, isro, gtmk answer without a trailing newline', (t) => {
  const ctx = fakeContext();
  t.is(runFourLetterWord('ruok', ctx), 'imok');
  t.is(runFourLetterWord('isro', ctx), 'rw');
  t.is(runFourLetterWord('isro', fakeContext({ serverState: 'read-only' })), 'ro');
  t.is(runFourLetterWord('gtmk', ctx), '306');
});

test('stmk sets and echoes the mask', (t) => {
  const ctx = fakeContext();
  t.is(runFourLetterWord('stmk', ctx, 1023n), '1023');
  t.deepEqual(ctx.calls, ['setTraceMask 1023']);
});

test('srvr', (t) => {
  t.is(runFourLetterWord('srvr', fakeContext()), VERSION_LINE + COUNTERS_TAIL);
});

test('srvr version matches go-zookeeper version regex', (t) => {
  const out = runFourLetterWord('srvr', fakeContext());
  t.regex(out, /^Zookeeper version: [A-Za-z0-9.-]+, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
});

test('stat lists clients briefly, then a blank line', (t) => {
  t.is(runFourLetterWord('stat', fakeContext()), VERSION_LINE +
    'Clients:\n /127.0.0.1:50998[1](queued=0,recved=11,sent=11)\n /127.0.0.1:51030[0](queued=0,recved=1,sent=0)\n\n' +
    COUNTERS_TAIL);
});

test('stat in read-only mode says so', (t) => {
  const out = runFourLetterWord('stat', fakeContext({ serverState: 'read-only' }));
  t.true(out.startsWith(`${VERSION_LINE}READ-ONLY mode; serving only read-only clients\nClients:\n`));
  t.true(out.includes('\nMode: read-only\n'));
});

test('cons shows session fields only for connections with a session', (t) => {
  t.is(runFourLetterWord('cons', fakeContext()),
    ' /127.0.0.1:50998[1](queued=0,recved=11,sent=11,sid=0x10000037d000000,lop=EXIS,est=1795308570831,' +
    'to=10000,lcxid=0xa,lzxid=0x4,lresp=243343,llat=0,minlat=0,avglat=4,maxlat=20)\n' +
    ' /127.0.0.1:51030[0](queued=0,recved=1,sent=0)\n\n');
});

test('conf', (t) => {
  t.is(runFourLetterWord('conf', fakeContext()),
    'clientPort=21899\nsecureClientPort=-1\ndataDir=/tmp/zr/data\ndataDirSize=67109337\ndataLogDir=/tmp/zr/data\n' +
    'dataLogSize=67109337\ntickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n' +
    'clientPortListenBacklog=-1\nserverId=1\n');
});

test('envi', (t) => {
  t.is(runFourLetterWord('envi', fakeContext()),
    'Environment:\nzookeeper.version=3.8.0-zooraft-0.1.0, built on 2024-12-29 17:54 UTC\nhost.name=localhost\n' +
    'os.name=Linux\nos.arch=amd64\nos.version=6.1.0\nuser.name=zk\nuser.home=/home/zk\nuser.dir=/srv/zooraft\n' +
    'os.memory.free=369MB\nos.memory.max=6028MB\nos.memory.total=388MB\n');
});

test('dump: session buckets, ephemerals, connection buckets', (t) => {
  t.is(runFourLetterWord('dump', fakeContext()),
    'SessionTracker dump:\nSession Sets (1)/(1):\n1 expire at Sun Nov 22 00:49:45 UTC 2026:\n\t0x10000037d000000\n' +
    'ephemeral nodes dump:\nSessions with Ephemerals (1):\n0x10000037d000000:\n\t/eph\n' +
    'Connections dump:\nConnections Sets (1)/(2):\n2 expire at Sun Nov 22 00:49:47 UTC 2026:\n' +
    '\tip: /127.0.0.1:50998 sessionId: 0x10000037d000000\n\tip: /127.0.0.1:51030 sessionId: 0x0\n');
});

test('dump with nothing', (t) => {
  t.is(runFourLetterWord('dump', fakeContext({ sessions: [], connections: [] })),
    'SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\nSessions with Ephemerals (0):\n' +
    'Connections dump:\nConnections Sets (0)/(0):\n');
});

test('wchs, wchc, wchp', (t) => {
  const ctx = fakeContext();
  t.is(runFourLetterWord('wchs', ctx), '1 connections watching 3 paths\nTotal watches:3\n');
  t.is(runFourLetterWord('wchc', ctx), '0x10000037d000000\n\t/a\n\t/a/b\n\t/nope\n\n');
  t.is(runFourLetterWord('wchp', ctx), '/a\n\t0x10000037d000000\n/a/b\n\t0x10000037d000000\n/nope\n\t0x10000037d000000\n\n');
});

test('wchs, wchc, wchp with no watches', (t) => {
  const ctx = fakeContext({ dataWatches: [] });
  t.is(runFourLetterWord('wchs', ctx), '0 connections watching 0 paths\nTotal watches:0\n');
  t.is(runFourLetterWord('wchc', ctx), '\n');
  t.is(runFourLetterWord('wchp', ctx), '\n');
});

test('dirs', (t) => {
  t.is(runFourLetterWord('dirs', fakeContext()), 'datadir_size: 67109337\nlogdir_size: 67109337\n');
});

test('crst and srst reset and confirm', (t) => {
  const ctx = fakeContext();
  t.is(runFourLetterWord('crst', ctx), 'Connection stats reset.\n');
  t.is(runFourLetterWord('srst', ctx), 'Server stats reset.\n');
  t.deepEqual(ctx.calls, ['resetConnectionStats', 'resetServerStats']);
});

test('mntr core keys, in ZooKeeper 3.8 order, tab separated', (t) => {
  t.is(runFourLetterWord('mntr', fakeContext()), [
    'zk_version\t3.8.0-zooraft-0.1.0, built on 2024-12-29 17:54 UTC', 'zk_server_state\tstandalone',
    'zk_ephemerals_count\t1', 'zk_num_alive_connections\t2', 'zk_avg_latency\t4.1818', 'zk_outstanding_requests\t0',
    'zk_znode_count\t8', 'zk_global_sessions\t1', 'zk_non_mtls_remote_conn_count\t0', 'zk_last_client_response_size\t16',
    'zk_packets_sent\t26', 'zk_packets_received\t27', 'zk_max_client_response_size\t16',
    'zk_connection_drop_probability\t0.0', 'zk_watch_count\t4', 'zk_auth_failed_count\t0', 'zk_min_latency\t0',
    'zk_max_file_descriptor_count\t20000', 'zk_approximate_data_size\t55', 'zk_open_file_descriptor_count\t40',
    'zk_local_sessions\t0', 'zk_uptime\t32234', 'zk_max_latency\t20', 'zk_outstanding_tls_handshake\t0',
    'zk_min_client_response_size\t16', 'zk_non_mtls_local_conn_count\t0', 'zk_watch_bytes\t0', 'zk_throttled_ops\t0',
  ].map((l) => `${l}\n`).join(''));
});

test('mntr leaves out unknown file descriptor counts and prints supplied counters and summaries', (t) => {
  const summaries = new Map<string, SummaryStat>([
    ['fsynctime', { count: 3, sum: 10, min: 1, max: 6 }],
    ['readlatency', { count: 0, sum: 0, min: 0, max: 0, percentiles: { p50: 0, p95: 0, p99: 0, p999: 0 } }],
  ]);
  const out = runFourLetterWord('mntr', fakeContext({
    openFileDescriptorCount: null, maxFileDescriptorCount: null,
    counters: new Map([['snap_count', 2], ['commit_count', 7], ['learners', 2]]), summaries,
  }));
  t.false(out.includes('file_descriptor'));
  t.true(out.includes('zk_throttled_ops\t0\nzk_snap_count\t2\nzk_commit_count\t7\nzk_learners\t2\n'));
  t.true(out.endsWith(
    'zk_avg_fsynctime\t3.3333\nzk_min_fsynctime\t1\nzk_max_fsynctime\t6\nzk_cnt_fsynctime\t3\nzk_sum_fsynctime\t10\n' +
    'zk_avg_readlatency\t0.0\nzk_min_readlatency\t0\nzk_max_readlatency\t0\nzk_cnt_readlatency\t0\nzk_sum_readlatency\t0\n' +
    'zk_p50_readlatency\t0\nzk_p95_readlatency\t0\nzk_p99_readlatency\t0\nzk_p999_readlatency\t0\n'));
});

// With every metric supplied, the key order is exactly the live 3.8.0 reference (when available).
test('mntr key order matches the ZooKeeper 3.8.0 reference', (t) => {
  const reference = '/work/shared/reference/mntr-3.8.0-standalone.txt';
  if (!fs.existsSync(reference)) {
    t.pass('reference file not present');
    return;
  }
  const refKeys = fs.readFileSync(reference, 'utf8').trim().split('\n').map((l) => l.split('\t')[0] ?? '');
  const counters = new Map<string, number>();
  const summaries = new Map<string, SummaryStat>();
  for (const key of refKeys) {
    const m = /^zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_(.+)$/.exec(key);
    if (m?.[2] !== undefined && refKeys.includes(`zk_cnt_${m[2]}`)) {
      const pct = refKeys.includes(`zk_p50_${m[2]}`) ? { percentiles: { p50: 0, p95: 0, p99: 0, p999: 0 } } : {};
      summaries.set(m[2], { count: 0, sum: 0, min: 0, max: 0, ...pct });
    } else {
      counters.set(key.slice(3), 0);
    }
  }
  const out = runFourLetterWord('mntr', fakeContext({ counters, summaries }));
  t.deepEqual(out.trim().split('\n').map((l) => l.split('\t')[0]), refKeys);
});

test('words not in the whitelist get ZooKeeper\'s refusal', (t) => {
  const ctx = fakeContext({ config: defaultConfig() });
  t.false(isFourLetterWordEnabled('ruok', ctx.config));
  t.is(runFourLetterWord('ruok', ctx), 'ruok is not executed because it is not in the whitelist.\n');
  t.is(runFourLetterWord('mntr', ctx), 'mntr is not executed because it is not in the whitelist.\n');
  t.true(runFourLetterWord('srvr', ctx).startsWith('Zookeeper version: '));
  t.is(runFourLetterWord('xyzw', ctx), '');
});

test('a server that is not serving says so, except for ruok/envi/isro/gtmk', (t) => {
  const ctx = fakeContext({ serving: false });
  for (const w of ['srvr', 'stat', 'mntr', 'conf', 'cons', 'dump', 'wchs', 'wchc', 'wchp', 'dirs', 'crst', 'srst']) {
    t.is(runFourLetterWord(w, ctx), 'This ZooKeeper instance is not currently serving requests\n', w);
  }
  t.is(runFourLetterWord('ruok', ctx), 'imok');
  t.is(runFourLetterWord('isro', ctx), 'null');
  t.true(runFourLetterWord('envi', ctx).startsWith('Environment:\n'));
  t.deepEqual(ctx.calls, []);
});

test('Java-style formatting helpers', (t) => {
  t.is(javaDouble(0), '0.0');
  t.is(javaDouble(2.5), '2.5');
  t.is(hex64(-1n), 'ffffffffffffffff');
  t.is(hex64(0xff00000000000001n), 'ff00000000000001');
  t.is(formatJavaDate(Date.UTC(2026, 0, 5, 3, 4, 5)), 'Mon Jan 05 03:04:05 UTC 2026');
  t.is(formatSocketAddress('::1', 52598), '/0:0:0:0:0:0:0:1:52598');
  t.is(formatSocketAddress('fe80::a:0bcd', 1), '/fe80:0:0:0:0:0:a:bcd:1');
  t.is(formatSocketAddress('::ffff:10.1.2.3', 7), '/10.1.2.3:7');
  t.is(formatSocketAddress('10.1.2.3', 7), '/10.1.2.3:7');
});

test('readEnvironment describes this process', (t) => {
  const env = readEnvironment();
  t.is(env.userDir, process.cwd());
  t.true(env.memoryBytesMax > 0);
  t.not(env.hostName, '');
});
