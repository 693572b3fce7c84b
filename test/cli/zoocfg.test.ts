// zoo.cfg parsing and validation: a Debian-style sample, overrides, myid, every error, warnings.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, buildConfig, parseZooCfg } from '../../src/cli/zoocfg.js';
import { ensembleConfigText } from '../../src/config.js';

// Shaped like Debian's /etc/zookeeper/conf/zoo.cfg (ZooKeeper 3.8 sample), with a few extras.
const DEBIAN_SAMPLE = `# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
dataDir=DATADIR
# the port at which the clients will connect
clientPort=2181
# the maximum number of client connections.
#maxClientCnxns=60
#autopurge.snapRetainCount=3
#autopurge.purgeInterval=1

## Metrics Providers
#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpPort=7000
! a properties-style comment
4lw.commands.whitelist = srvr, ruok ,mntr
server.1=zk1.example.com:2888:3888
`;

function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zooraft-cfg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeCfg(dir: string, text: string): string {
  const file = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(file, text);
  return file;
}

test('parseZooCfg: separators, comments, blank lines, continuation, last value wins', (t) => {
  const { values } = parseZooCfg('a=1\n  b : 2 \n# c=3\n! d=4\n\ne   5\nf=x\\\n   y\na=6\ng=\n', 'x.cfg');
  t.deepEqual([...values], [['a', '6'], ['b', '2'], ['e', '5'], ['f', 'xy'], ['g', '']]);
});

test('a Debian-style zoo.cfg', (t) => {
  const dir = tmpDir(t);
  const dataDir = path.join(dir, 'data');
  const file = writeCfg(dir, DEBIAN_SAMPLE.replace('DATADIR', dataDir));
  const { config, warnings } = buildConfig({ cfgFile: file, overrides: {}, cwd: '/' });
  t.is(config.tickTimeMs, 2000);
  t.is(config.dataDir, dataDir);
  t.is(config.dataLogDir, dataDir);
  t.is(config.clientPort, 2181);
  t.is(config.clientPortAddress, '0.0.0.0');
  t.is(config.minSessionTimeoutMs, 4000);
  t.is(config.maxSessionTimeoutMs, 40000);
  t.deepEqual(config.fourLetterWords, new Set(['srvr', 'ruok', 'mntr']));
  t.is(config.serverId, 1);
  t.deepEqual(warnings, [
    `metricsProvider.httpPort in ${file}: not supported yet, ignored`,
    'only one server.N line: running standalone, as ZooKeeper does',
  ]);
  t.deepEqual(config.ensemble, []);
});

test('server.N lines and myid make an ensemble member', (t) => {
  const dir = tmpDir(t);
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const cfg = `tickTime=2000\ndataDir=${dataDir}\nclientPort=2181\ninitLimit=10\nsyncLimit=5\n` +
    'server.3=10.0.0.3:2888:3888\nserver.1=zk1.example.com:2888:3888:participant\nserver.2=10.0.0.2:2889:3889;2181\n';
  const file = writeCfg(dir, cfg);
  t.throws(() => buildConfig({ cfgFile: file, overrides: {}, cwd: '/' }), { instanceOf: ConfigError, message: /myid is missing.*write the N of this server's server\.N line/ });
  fs.writeFileSync(path.join(dataDir, 'myid'), '2\n');
  const { config, warnings } = buildConfig({ cfgFile: file, overrides: {}, cwd: '/' });
  t.deepEqual(warnings, []);
  t.is(config.serverId, 2);
  t.deepEqual(config.ensemble, [
    { id: 1, host: 'zk1.example.com', quorumPort: 2888, electionPort: 3888, clientAddress: null },
    { id: 2, host: '10.0.0.2', quorumPort: 2889, electionPort: 3889, clientAddress: '0.0.0.0:2181' },
    { id: 3, host: '10.0.0.3', quorumPort: 2888, electionPort: 3888, clientAddress: null },
  ]);
  // What /zookeeper/config will show, in ZooKeeper 3.8's format.
  t.is(ensembleConfigText(config.ensemble), [
    'server.1=zk1.example.com:2888:3888:participant',
    'server.2=10.0.0.2:2889:3889:participant;0.0.0.0:2181',
    'server.3=10.0.0.3:2888:3888:participant',
    'version=0',
  ].join('\n'));
  fs.writeFileSync(path.join(dataDir, 'myid'), '7\n');
  t.throws(() => buildConfig({ cfgFile: file, overrides: {}, cwd: '/' }), { instanceOf: ConfigError, message: /myid 7 .* has no server\.7 line/ });
});

for (const [value, why] of [
  ['10.0.0.1:2888', /expected host:quorumPort:electionPort/],
  ['10.0.0.1:2888:3888:observer', /observers are not supported yet/],
  ['10.0.0.1:28x8:3888', /"28x8" is not a TCP port number/],
  ['not a host!:2888:3888', /not an IP address or host name/],
] as const) {
  test(`ConfigError for server.2=${value}`, (t) => {
    t.throws(() => buildConfig({ overrides: { 'server.1': '10.0.0.1:2888:3888', 'server.2': value }, cwd: '/' }), { instanceOf: ConfigError, message: why });
  });
}

test('no config at all: 127.0.0.1:2181 with data in ./data', (t) => {
  const { config, warnings } = buildConfig({ overrides: {}, cwd: '/srv/zr' });
  t.is(config.clientPortAddress, '127.0.0.1');
  t.is(config.clientPort, 2181);
  t.is(config.dataDir, '/srv/zr/data');
  t.is(config.dataLogDir, '/srv/zr/data');
  t.deepEqual(config.fourLetterWords, new Set(['srvr']));
  t.deepEqual(warnings, []);
});

test('every supported key, with overrides winning over the file', (t) => {
  const dir = tmpDir(t);
  const file = writeCfg(dir, [
    'tickTime=1000', 'dataDir=rel/data', 'dataLogDir=rel/log', 'clientPort=2181', 'clientPortAddress=10.0.0.5',
    'maxClientCnxns=0', 'minSessionTimeout=3000', 'maxSessionTimeout=-1', 'snapCount=5000',
    'autopurge.snapRetainCount=5', 'autopurge.purgeInterval=24', '4lw.commands.whitelist=*', 'jute.maxbuffer=0x400000',
    'forceSync=no', 'globalOutstandingLimit=500', 'skipACL=yes', 'zookeeper.extendedTypesEnabled=true',
    'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
    'znode.container.checkIntervalMs=1000', 'znode.container.maxPerMinute=50', 'znode.container.maxNeverUsedIntervalMs=9000',
  ].join('\n'));
  const { config, warnings } = buildConfig({
    cfgFile: 'zoo.cfg', cwd: dir,
    overrides: { clientPort: '2182', 'jute.maxbuffer': '4096', 'zookeeper.DigestAuthenticationProvider.superDigest': 'admin:D/InIHSb7yEEbrWz8b9l71RjZJU=' },
  });
  t.like(config, {
    tickTimeMs: 1000, dataDir: path.join(dir, 'rel/data'), dataLogDir: path.join(dir, 'rel/log'), clientPort: 2182,
    clientPortAddress: '10.0.0.5', maxClientCnxns: 0, minSessionTimeoutMs: 3000, maxSessionTimeoutMs: 20000,
    snapCount: 5000, snapRetainCount: 5, purgeIntervalHours: 24, fourLetterWords: '*', juteMaxBuffer: 4096,
    forceSync: false, globalOutstandingLimit: 500, skipACL: true, extendedTypesEnabled: true,
    superDigest: 'admin:D/InIHSb7yEEbrWz8b9l71RjZJU=', containerCheckIntervalMs: 1000, containerMaxPerMinute: 50,
    containerMaxNeverUsedIntervalMs: 9000,
  });
  t.is(warnings.length, 2);
  t.regex(warnings[0] ?? '', /^forceSync=no/);
  t.regex(warnings[1] ?? '', /^skipACL=yes/);
});

test('jute.maxbuffer accepts decimal and hex', (t) => {
  t.is(buildConfig({ overrides: { 'jute.maxbuffer': '0xfffff' }, cwd: '/' }).config.juteMaxBuffer, 0xfffff);
  t.is(buildConfig({ overrides: { 'jute.maxbuffer': '4096' }, cwd: '/' }).config.juteMaxBuffer, 4096);
});

test('session timeouts default to 2x and 20x the tickTime given', (t) => {
  const { config } = buildConfig({ overrides: { tickTime: '500' }, cwd: '/' });
  t.is(config.minSessionTimeoutMs, 1000);
  t.is(config.maxSessionTimeoutMs, 10000);
});

test('autopurge.snapRetainCount below 3 and snapCount below 2 are raised with a warning', (t) => {
  const { config, warnings } = buildConfig({ overrides: { 'autopurge.snapRetainCount': '1', snapCount: '1' }, cwd: '/' });
  t.is(config.snapRetainCount, 3);
  t.is(config.snapCount, 2);
  t.is(warnings.length, 2);
});

test('unknown keys, not-yet-supported keys and unknown 4lw words are warned about', (t) => {
  const { warnings } = buildConfig({
    overrides: { tickTim: '2000', secureClientPort: '2281', 'admin.serverPort': '8080', 'ssl.keyStore.location': 'k', '4lw.commands.whitelist': 'ruok,kill' },
    cwd: '/',
  });
  t.deepEqual(warnings, [
    'tickTim in --set: unknown key, ignored (not a ZooKeeper setting zooraft knows; check the spelling)',
    'secureClientPort in --set: not supported yet, ignored',
    'admin.serverPort in --set: not supported yet, ignored',
    'ssl.keyStore.location in --set: not supported yet, ignored',
    '4lw.commands.whitelist in --set: "kill" is not a four-letter word zooraft serves (ruok srvr stat mntr conf envi cons isro dump wchs wchc wchp dirs crst srst gtmk stmk); ignored',
  ]);
});

test('myid in dataDir sets the server id', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'myid'), '7\n');
  t.is(buildConfig({ overrides: { dataDir: dir }, cwd: '/' }).config.serverId, 7);
});

test('a bad myid is a ConfigError naming the file', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'myid'), 'replace this text\n');
  const err = t.throws(() => buildConfig({ overrides: { dataDir: dir }, cwd: '/' }), { instanceOf: ConfigError });
  t.is(err?.message, `myid "replace this text" in ${path.join(dir, 'myid')}: not a server id; write a whole number between 1 and 255 into ${path.join(dir, 'myid')}`);
});

const BAD_VALUES: ReadonlyArray<readonly [string, string, string]> = [
  ['tickTime', 'abc', 'tickTime=abc in /etc/zoo.cfg: not a whole number of milliseconds; set tickTime=2000'],
  ['tickTime', '0', 'tickTime=0 in /etc/zoo.cfg: must be between 1 and 2147483647; set tickTime=2000'],
  ['clientPort', '70000', 'clientPort=70000 in /etc/zoo.cfg: must be between 0 and 65535; set clientPort=2181'],
  ['clientPort', '21a', 'clientPort=21a in /etc/zoo.cfg: not a TCP port number; set clientPort=2181'],
  ['clientPortAddress', 'not an address!', 'clientPortAddress=not an address! in /etc/zoo.cfg: not an IP address or host name; set clientPortAddress=0.0.0.0 (all interfaces) or 127.0.0.1 (this machine only)'],
  ['maxClientCnxns', '-1', 'maxClientCnxns=-1 in /etc/zoo.cfg: must be at least 0; set maxClientCnxns=60'],
  ['minSessionTimeout', '1.5', 'minSessionTimeout=1.5 in /etc/zoo.cfg: not a whole number of milliseconds; set minSessionTimeout=4000'],
  ['maxSessionTimeout', 'x', 'maxSessionTimeout=x in /etc/zoo.cfg: not a whole number of milliseconds; set maxSessionTimeout=40000'],
  ['snapCount', '0', 'snapCount=0 in /etc/zoo.cfg: must be between 1 and 2147483647; set snapCount=100000'],
  ['autopurge.snapRetainCount', 'three', 'autopurge.snapRetainCount=three in /etc/zoo.cfg: not a whole number of snapshots; set autopurge.snapRetainCount=3'],
  ['autopurge.purgeInterval', '-2', 'autopurge.purgeInterval=-2 in /etc/zoo.cfg: must be between 0 and 2147483647; set autopurge.purgeInterval=0'],
  ['jute.maxbuffer', '0', 'jute.maxbuffer=0 in /etc/zoo.cfg: must be between 1 and 2147483647 bytes; set jute.maxbuffer=1048575'],
  ['jute.maxbuffer', '1M', 'jute.maxbuffer=1M in /etc/zoo.cfg: not a byte count (decimal, or hex like 0xfffff); set jute.maxbuffer=1048575'],
  ['forceSync', 'true', 'forceSync=true in /etc/zoo.cfg: must be yes or no; set forceSync=yes or forceSync=no'],
  ['skipACL', '1', 'skipACL=1 in /etc/zoo.cfg: must be yes or no; set skipACL=yes or skipACL=no'],
  ['globalOutstandingLimit', '0', 'globalOutstandingLimit=0 in /etc/zoo.cfg: must be between 1 and 2147483647; set globalOutstandingLimit=1000'],
  ['extendedTypesEnabled', 'yes', 'extendedTypesEnabled=yes in /etc/zoo.cfg: must be true or false; set extendedTypesEnabled=true or extendedTypesEnabled=false'],
  ['znode.container.checkIntervalMs', '0', 'znode.container.checkIntervalMs=0 in /etc/zoo.cfg: must be at least 1; set znode.container.checkIntervalMs=60000'],
  ['znode.container.maxPerMinute', 'many', 'znode.container.maxPerMinute=many in /etc/zoo.cfg: not a whole number of deletions; set znode.container.maxPerMinute=10000'],
  ['znode.container.maxNeverUsedIntervalMs', '-5', 'znode.container.maxNeverUsedIntervalMs=-5 in /etc/zoo.cfg: must be at least 0; set znode.container.maxNeverUsedIntervalMs=0'],
  ['dataLogDir', '', 'dataLogDir= in /etc/zoo.cfg: is empty; set dataLogDir=/var/lib/zooraft'],
];

// Each bad value, read from a file whose path appears in the message (no real /etc/zoo.cfg needed:
// the test writes one into a temporary directory and checks the message with that path).
for (const [key, value, expected] of BAD_VALUES) {
  test(`ConfigError for ${key}=${value === '' ? '(empty)' : value}`, (t) => {
    const dir = tmpDir(t);
    const lines = { tickTime: '2000', dataDir: path.join(dir, 'data'), clientPort: '2181', [key]: value };
    const file = writeCfg(dir, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n'));
    const err = t.throws(() => buildConfig({ cfgFile: file, overrides: {}, cwd: dir }), { instanceOf: ConfigError });
    t.is(err?.message, expected.replace('/etc/zoo.cfg', file));
  });
}

test('superDigest must look like user:base64(sha1)', (t) => {
  const err = t.throws(() => buildConfig({ overrides: { 'DigestAuthenticationProvider.superDigest': 'super:secret' }, cwd: '/' }), { instanceOf: ConfigError });
  t.regex(err?.message ?? '', /^DigestAuthenticationProvider\.superDigest=super:secret in --set: not "<user>:<base64 of SHA-1/);
});

test('minSessionTimeout larger than maxSessionTimeout', (t) => {
  const err = t.throws(() => buildConfig({ overrides: { minSessionTimeout: '50000' }, cwd: '/' }), { instanceOf: ConfigError });
  t.is(err?.message, 'minSessionTimeout=50000 is larger than maxSessionTimeout=40000 (--set); make minSessionTimeout <= maxSessionTimeout');
});

test('a zoo.cfg must set tickTime, dataDir and clientPort (as ZooKeeper requires)', (t) => {
  const dir = tmpDir(t);
  const file = writeCfg(dir, 'tickTime=2000\nclientPort=2181\n');
  const err = t.throws(() => buildConfig({ cfgFile: file, overrides: {}, cwd: dir }), { instanceOf: ConfigError });
  t.is(err?.message, `dataDir is not set in ${file}; add a dataDir= line (e.g. dataDir=/var/lib/zooraft) or pass it on the command line`);
  t.notThrows(() => buildConfig({ cfgFile: file, overrides: { dataDir: 'd' }, cwd: dir }));
});

test('a missing config file is a ConfigError', (t) => {
  const err = t.throws(() => buildConfig({ cfgFile: '/nonexistent/zoo.cfg', overrides: {}, cwd: '/' }), { instanceOf: ConfigError });
  t.is(err?.message, 'cannot read config file /nonexistent/zoo.cfg (ENOENT); check the path given to --config');
});

test('errors from a dedicated flag name the flag', (t) => {
  const err = t.throws(() => buildConfig({ overrides: { clientPort: 'x' }, overrideFlags: { clientPort: '--port' }, cwd: '/' }), { instanceOf: ConfigError });
  t.is(err?.message, 'clientPort=x in --port: not a TCP port number; use --port 2181');
});
