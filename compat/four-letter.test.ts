// Four-letter words over TCP, zooraft beside real ZooKeeper 3.8 in the same state (one session
// with an ephemeral node and a data watch): the same words, the same line shapes, the mntr core
// keys exporters read, and the whitelist refusal text. Values differ (ports, ids, latencies);
// the shapes must not, since tools (zktop, exporters, go-zookeeper) parse them.
import test from 'ava';
import { ZooKeeperProcess, fourLetterWord } from './zookeeper-process.js';
import { ZooraftProcess } from '../test/helpers/zooraft-process.js';
import { RawClient } from './raw-client.js';
import { CreateRequest, GetDataRequest, OpCode } from '../wire/index.js';

interface Server {
  host: string;
  port: number;
}

let zk: ZooKeeperProcess;
let zr: ZooraftProcess;
const clients: RawClient[] = [];

async function prepare(s: Server): Promise<void> {
  const c = await RawClient.connect({ host: s.host, port: s.port, timeOutMs: 30000 });
  clients.push(c);
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  await c.request(OpCode.create, (w) => CreateRequest.write(w, { path: '/flw', data: Buffer.from('x'), acl, flags: 0 }));
  await c.request(OpCode.create, (w) => CreateRequest.write(w, { path: '/flw/eph', data: null, acl, flags: 1 }));
  await c.request(OpCode.getData, (w) => GetDataRequest.write(w, { path: '/flw', watch: true }));
}

test.before(async () => {
  zk = await ZooKeeperProcess.start({ tickTimeMs: 2000 });
  zr = await ZooraftProcess.start({ tickTimeMs: 2000, settings: { '4lw.commands.whitelist': '*' } });
  await prepare(zk);
  await prepare(zr);
});

test.after.always(async () => {
  for (const c of clients) c.socket.destroy();
  await zk?.stop();
  await zr?.stop();
});

const ask = (s: Server, word: string): Promise<string> => fourLetterWord(s.host, s.port, word, 5000);

/** A line's shape: digits, hex and addresses replaced, so only the format is compared. */
function shape(text: string): string[] {
  return text
    .split('\n')
    .map((l) =>
      l
        .replace(/0x[0-9a-f]+/g, 'HEX')
        .replace(/\/[0-9.:a-f]+:\d+/g, '/ADDR')
        .replace(/\d+(\.\d+)?/g, 'N')
        .replace(/Zookeeper version: [^,]+, built on .*/, 'Zookeeper version: V, built on DATE'),
    )
    .filter((l) => l !== '')
    // How many client lines there are depends on connections still closing (ZooKeeper keeps a
    // just-closed 4lw connection a moment longer): compare their form, not their number.
    .filter((l, i, all) => !(l.startsWith(' /ADDR') && all[i - 1] === l));
}

test('ruok, isro, srvr and stat have ZooKeeper’s exact shape', async (t) => {
  t.is(await ask(zr, 'ruok'), 'imok');
  t.is(await ask(zr, 'isro'), await ask(zk, 'isro'));
  const srvr = await ask(zr, 'srvr');
  t.regex(srvr, /^Zookeeper version: 3\.8\.0-zooraft-[A-Za-z0-9.-]+, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
  t.deepEqual(shape(srvr), shape(await ask(zk, 'srvr')));
  t.deepEqual(shape(await ask(zr, 'stat')), shape(await ask(zk, 'stat')));
});

test('mntr has every core key ZooKeeper has, tab separated, in ZooKeeper’s order', async (t) => {
  const keys = (text: string): string[] => text.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0] ?? '');
  const ours = await ask(zr, 'mntr');
  const theirs = keys(await ask(zk, 'mntr'));
  for (const line of ours.split('\n').filter((l) => l !== '')) t.regex(line, /^zk_[a-z0-9_]+\t\S.*$/, line);
  const core = ['zk_version', 'zk_server_state', 'zk_avg_latency', 'zk_max_latency', 'zk_min_latency', 'zk_packets_received', 'zk_packets_sent', 'zk_num_alive_connections', 'zk_outstanding_requests', 'zk_znode_count', 'zk_watch_count', 'zk_ephemerals_count', 'zk_approximate_data_size', 'zk_open_file_descriptor_count', 'zk_max_file_descriptor_count'];
  const mine = keys(ours);
  for (const k of core) {
    t.true(theirs.includes(k), `ZooKeeper has ${k}`);
    t.true(mine.includes(k), `zooraft has ${k}`);
  }
  // Keys both servers print come in the same relative order.
  const common = mine.filter((k) => theirs.includes(k));
  t.deepEqual(common, theirs.filter((k) => mine.includes(k)));
  const value = (text: string, key: string): string | undefined => text.split('\n').find((l) => l.startsWith(`${key}\t`))?.split('\t')[1];
  t.is(value(ours, 'zk_server_state'), 'standalone');
  t.is(value(ours, 'zk_ephemerals_count'), '1');
  t.is(value(ours, 'zk_watch_count'), '1');
  t.is(value(ours, 'zk_znode_count'), value(await ask(zk, 'mntr'), 'zk_znode_count'));
});

test('conf, envi, cons, wchs, wchc, wchp, dump, dirs have ZooKeeper’s line structure', async (t) => {
  const firstWords = (text: string): string[] => text.split('\n').filter((l) => l !== '').map((l) => l.split(/[=:\t ]/)[0] ?? '');
  const confKeys = (text: string): string[] => text.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=')[0] ?? '');
  const zkConf = confKeys(await ask(zk, 'conf'));
  for (const k of confKeys(await ask(zr, 'conf'))) t.true(zkConf.includes(k), `conf key ${k} is one ZooKeeper prints`);
  t.true((await ask(zr, 'envi')).startsWith('Environment:\nzookeeper.version=3.8.0-zooraft-'));
  t.deepEqual(shape(await ask(zr, 'wchs')), shape(await ask(zk, 'wchs')));
  t.deepEqual(shape(await ask(zr, 'wchc')), shape(await ask(zk, 'wchc')));
  t.deepEqual(shape(await ask(zr, 'wchp')), shape(await ask(zk, 'wchp')));
  t.deepEqual(firstWords(await ask(zr, 'dirs')), firstWords(await ask(zk, 'dirs')));
  const cons = await ask(zr, 'cons');
  t.regex(cons, /^ \/127\.0\.0\.1:\d+\[1\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=\w+,est=\d+,to=30000,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)$/m);
  const dump = await ask(zr, 'dump');
  t.true(dump.includes('/flw/eph'), dump);
  t.is(shape(dump)[0], shape(await ask(zk, 'dump'))[0]);
  t.is(await ask(zr, 'crst'), await ask(zk, 'crst'));
  t.is(await ask(zr, 'srst'), await ask(zk, 'srst'));
});

test('the default whitelist answers srvr only, with ZooKeeper’s refusal text for the rest', async (t) => {
  const plain = await ZooraftProcess.start({ tickTimeMs: 2000 });
  try {
    t.true((await ask(plain, 'srvr')).startsWith('Zookeeper version: '));
    t.is(await ask(plain, 'ruok'), 'ruok is not executed because it is not in the whitelist.\n');
    t.is(await ask(plain, 'mntr'), 'mntr is not executed because it is not in the whitelist.\n');
  } finally {
    await plain.stop();
    await plain.removeData();
  }
});
