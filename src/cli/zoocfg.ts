// zoo.cfg (plus command-line overrides) -> a validated ServerConfig.
//
// The file is a Java properties file, as ZooKeeper reads it (QuorumPeerConfig): "key=value",
// "key: value" or "key value"; '#' and '!' comments; backslash continues a line; keys and values
// trimmed. Every key is either applied, or reported in a warning: nothing is silently ignored.
// As ZooKeeper turns unknown zoo.cfg keys into "zookeeper.<key>" system properties, each key is
// also accepted with a "zookeeper." prefix (zookeeper.extendedTypesEnabled, zookeeper.skipACL).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { DEFAULT_TICK_TIME_MS, defaultConfig } from '../config.js';
import type { EnsembleMemberConfig, ServerConfig } from '../config.js';
import { FOUR_LETTER_WORDS } from '../server/four-letter.js';

export class ConfigError extends Error {
  readonly code = 'ZOORAFT_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ParsedZooCfg {
  values: Map<string, string>;
}

/** Parses Java-properties text. A repeated key keeps its last value (as java.util.Properties). */
export function parseZooCfg(text: string, file: string): ParsedZooCfg {
  const values = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsWithContinuation(line) && i + 1 < lines.length) {
      i++;
      line = line.slice(0, -1) + (lines[i] ?? '').trimStart();
    }
    const sep = /[=:\s]/.exec(line);
    const key = (sep === null ? line : line.slice(0, sep.index)).trim();
    let rest = sep === null ? '' : line.slice(sep.index).trimStart();
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1);
    if (key === '') throw new ConfigError(`${file} line ${i + 1}: "${line}" has no key; write key=value`);
    values.set(key, rest.trim());
  }
  return { values };
}

function endsWithContinuation(line: string): boolean {
  const m = /\\+$/.exec(line);
  return m !== null && m[0].length % 2 === 1;
}

// ---- what we know about each key ----

const SUPPORTED = new Set([
  'tickTime', 'dataDir', 'dataLogDir', 'clientPort', 'clientPortAddress', 'maxClientCnxns',
  'minSessionTimeout', 'maxSessionTimeout', 'snapCount', 'autopurge.snapRetainCount',
  'autopurge.purgeInterval', '4lw.commands.whitelist', 'jute.maxbuffer', 'forceSync',
  'globalOutstandingLimit', 'skipACL', 'extendedTypesEnabled', 'DigestAuthenticationProvider.superDigest',
  // Accepted for zoo.cfg compatibility: Raft's heartbeat and election timing replace them.
  'initLimit', 'syncLimit',
  'znode.container.checkIntervalMs', 'znode.container.maxPerMinute', 'znode.container.maxNeverUsedIntervalMs',
]);

/** ZooKeeper settings we know but do not implement yet: a warning, then ignored. */
const NOT_YET = new Set([
  'secureClientPort', 'secureClientPortAddress', 'standaloneEnabled',
  'reconfigEnabled', 'quorumListenOnAllIPs', 'preAllocSize', 'maxCnxns', 'localSessionsEnabled',
  'localSessionsUpgradingEnabled', 'peerType', 'electionAlg', 'electionPortBindRetry', 'leaderServes',
  'cnxTimeout', 'dynamicConfigFile', 'snapSizeLimitInKb', 'fsync.warningthresholdms', 'syncEnabled',
  'clientPortListenBacklog', 'serverCnxnFactory', 'client.portUnification', 'sslQuorum',
  'portUnification', 'enforceQuota', 'enforce.auth.enabled', 'enforce.auth.schemes',
  'sessionRequireClientSASLAuth', 'maxResponseCacheSize', 'maxGetChildrenResponseCacheSize',
  'connectToLearnerMasterLimit', 'observerMasterPort', 'tcpKeepAlive', 'audit.enable', 'digest.enabled',
  'multiAddress.enabled', 'multiAddress.reachabilityCheckEnabled', 'multiAddress.reachabilityCheckTimeoutMs',
  'learner.asyncSending', 'leader.nodelay', 'maxBatchSize', 'closeSessionTxn.enabled',
  'snapshot.trust.empty', 'serializeLastProcessedZxid.enabled',
  'requestThrottleLimit', 'requestThrottleStallTime', 'requestThrottleDropStale', 'connection_throttle_tokens',
  'flushDelay', 'maxWriteQueuePollTime', 'txnLogSizeLimitInKb', 'commitLogCount', 'snapshot.compression.method',
]);
const NOT_YET_PREFIXES = ['admin.', 'metricsProvider.', 'authProvider.', 'ssl.', 'quorum.auth.', 'group.', 'weight.', 'kerberos.', 'X509AuthenticationProvider.'];

function canonicalKey(key: string): string {
  const bare = key.startsWith('zookeeper.') ? key.slice('zookeeper.'.length) : key;
  return SUPPORTED.has(bare) || NOT_YET.has(bare) ? bare : key;
}

const SERVER_KEY = /^server\.\d+$/;

function unsupportedWarning(key: string, where: string): string {
  if (NOT_YET.has(key) || NOT_YET_PREFIXES.some((p) => key.startsWith(p))) {
    return `${key} in ${where}: not supported yet, ignored`;
  }
  return `${key} in ${where}: unknown key, ignored (not a ZooKeeper setting zooraft knows; check the spelling)`;
}

// ---- value parsers: each throws a ConfigError naming key, value, cause and fix ----

interface Source {
  value: string;
  /** "/etc/zoo.cfg", "--set" or the flag ("--port") the value came from. */
  where: string;
  /** The command-line flag that set it, if any: the fix then names the flag. */
  flag?: string;
}

function fixWith(key: string, src: Source, example: string): string {
  return src.flag !== undefined ? `use ${src.flag} ${example}` : `set ${key}=${example}`;
}

function fail(key: string, src: Source, cause: string, fix: string): never {
  throw new ConfigError(`${key}=${src.value} in ${src.where}: ${cause}; ${fix}`);
}

/** `what` completes "not ...": "a whole number of milliseconds", "a TCP port number". */
function wholeNumber(key: string, src: Source, what: string, min: number, max: number, example: string): number {
  if (!/^-?\d+$/.test(src.value)) fail(key, src, `not ${what}`, fixWith(key, src, example));
  const n = Number(src.value);
  if (n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    fail(key, src, `must be ${range}`, fixWith(key, src, example));
  }
  return n;
}

function yesNo(key: string, src: Source): boolean {
  const v = src.value.toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  return fail(key, src, 'must be yes or no', `set ${key}=yes or ${key}=no`);
}

function trueFalse(key: string, src: Source): boolean {
  const v = src.value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(key, src, 'must be true or false', `set ${key}=true or ${key}=false`);
}

function byteCount(key: string, src: Source): number {
  const v = src.value;
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (Number.isNaN(n)) fail(key, src, 'not a byte count (decimal, or hex like 0xfffff)', `set ${key}=1048575`);
  if (n <= 0 || n > 0x7fffffff) fail(key, src, 'must be between 1 and 2147483647 bytes', `set ${key}=1048575`);
  return n;
}

function directory(key: string, src: Source, cwd: string): string {
  if (src.value === '') fail(key, src, 'is empty', fixWith(key, src, '/var/lib/zooraft'));
  return path.resolve(cwd, src.value);
}

function hostAddress(key: string, src: Source): string {
  const v = src.value;
  const hostname = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
  if (net.isIP(v) === 0 && !hostname.test(v)) {
    fail(key, src, 'not an IP address or host name', `${fixWith(key, src, '0.0.0.0')} (all interfaces) or 127.0.0.1 (this machine only)`);
  }
  return v;
}

function whitelist(key: string, src: Source, warnings: string[]): '*' | ReadonlySet<string> {
  const words = src.value.split(',').map((w) => w.trim()).filter((w) => w !== '');
  if (words.includes('*')) return '*';
  for (const w of words) {
    if (!FOUR_LETTER_WORDS.has(w)) {
      warnings.push(`${key} in ${src.where}: "${w}" is not a four-letter word zooraft serves (${[...FOUR_LETTER_WORDS].join(' ')}); ignored`);
    }
  }
  return new Set(words.filter((w) => FOUR_LETTER_WORDS.has(w)));
}

function superDigest(key: string, src: Source): string {
  if (!/^[^:\s]+:[A-Za-z0-9+/]{27}=$/.test(src.value)) {
    fail(key, src, 'not "<user>:<base64 of SHA-1 of user:password>"',
      `set ${key}=super:<digest> with the digest from ZooKeeper's DigestAuthenticationProvider (28 characters ending in =)`);
  }
  return src.value;
}

// ---- building the ServerConfig ----

export interface BuildConfigOptions {
  cfgFile?: string;
  /** zoo.cfg keys from the command line; they win over the file. */
  overrides: Record<string, string>;
  /** For error messages: the flag that set an override key ("clientPort" -> "--port"). */
  overrideFlags?: Record<string, string>;
  cwd: string;
}

export function buildConfig(opts: BuildConfigOptions): { config: ServerConfig; warnings: string[] } {
  const warnings: string[] = [];
  const settings = new Map<string, Source>();
  let cfgPath: string | undefined;
  if (opts.cfgFile !== undefined) {
    cfgPath = path.resolve(opts.cwd, opts.cfgFile);
    for (const [key, value] of parseZooCfg(readCfg(cfgPath), cfgPath).values) {
      collect(settings, warnings, key, { value, where: cfgPath });
    }
  }
  for (const [key, value] of Object.entries(opts.overrides)) {
    const flag = opts.overrideFlags?.[key];
    const src: Source = flag !== undefined ? { value: value.trim(), where: flag, flag } : { value: value.trim(), where: '--set' };
    collect(settings, warnings, key, src);
  }
  const config = applySettings(settings, cfgPath, opts.cwd, warnings);
  config.serverId = readMyid(config.dataDir);
  if (config.ensemble.length === 1) {
    // ZooKeeper (standaloneEnabled=true) runs a lone server.N as a standalone server.
    warnings.push(`only one server.N line: running standalone, as ZooKeeper does`);
    config.ensemble = [];
  }
  if (config.ensemble.length > 1) {
    const myid = path.join(config.dataDir, 'myid');
    if (!fs.existsSync(myid)) {
      throw new ConfigError(`${myid} is missing: an ensemble member needs its server id there; write the N of this server's server.N line into ${myid}`);
    }
    if (!config.ensemble.some((m) => m.id === config.serverId)) {
      throw new ConfigError(`myid ${config.serverId} (${myid}) has no server.${config.serverId} line; add server.${config.serverId}=host:quorumPort:electionPort or fix myid`);
    }
  }
  return { config, warnings };
}

function readCfg(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`cannot read config file ${file} (${code}); check the path given to --config`);
  }
}

function collect(settings: Map<string, Source>, warnings: string[], rawKey: string, src: Source): void {
  const key = canonicalKey(rawKey);
  if (SUPPORTED.has(key) || SERVER_KEY.test(key)) settings.set(key, src);
  else warnings.push(unsupportedWarning(rawKey, src.where));
}

function applySettings(settings: Map<string, Source>, cfgPath: string | undefined, cwd: string, warnings: string[]): ServerConfig {
  const get = (key: string): Source | undefined => settings.get(key);
  const c: ServerConfig = defaultConfig({ dataDir: path.resolve(cwd, 'data') });
  if (cfgPath !== undefined) {
    // ZooKeeper refuses a zoo.cfg without these, and listens on all interfaces by default.
    for (const key of ['tickTime', 'dataDir', 'clientPort']) {
      if (get(key) === undefined) {
        throw new ConfigError(`${key} is not set in ${cfgPath}; add a ${key}= line (e.g. ${exampleFor(key)}) or pass it on the command line`);
      }
    }
    c.clientPortAddress = '0.0.0.0';
  }
  const MAX = Number.MAX_SAFE_INTEGER;
  const num = (key: string, what: string, min: number, max: number, example: string, apply: (n: number) => void): void => {
    const src = get(key);
    if (src !== undefined) apply(wholeNumber(key, src, what, min, max, example));
  };
  const flag = (key: string, parse: (k: string, s: Source) => boolean, apply: (b: boolean) => void): void => {
    const src = get(key);
    if (src !== undefined) apply(parse(key, src));
  };

  num('tickTime', 'a whole number of milliseconds', 1, 2147483647, String(DEFAULT_TICK_TIME_MS), (n) => { c.tickTimeMs = n; });
  c.minSessionTimeoutMs = 2 * c.tickTimeMs;
  c.maxSessionTimeoutMs = 20 * c.tickTimeMs;
  const dataDir = get('dataDir');
  if (dataDir !== undefined) c.dataDir = directory('dataDir', dataDir, cwd);
  const dataLogDir = get('dataLogDir');
  c.dataLogDir = dataLogDir !== undefined ? directory('dataLogDir', dataLogDir, cwd) : c.dataDir;
  num('clientPort', 'a TCP port number', 0, 65535, '2181', (n) => { c.clientPort = n; });
  const addr = get('clientPortAddress');
  if (addr !== undefined) c.clientPortAddress = hostAddress('clientPortAddress', addr);
  num('maxClientCnxns', 'a whole number of connections', 0, MAX, '60', (n) => { c.maxClientCnxns = n; });
  // As ZooKeeper: -1 (or absent) means the 2x / 20x tickTime default.
  num('minSessionTimeout', 'a whole number of milliseconds', -1, 2147483647, String(2 * c.tickTimeMs), (n) => { if (n !== -1) c.minSessionTimeoutMs = n; });
  num('maxSessionTimeout', 'a whole number of milliseconds', -1, 2147483647, String(20 * c.tickTimeMs), (n) => { if (n !== -1) c.maxSessionTimeoutMs = n; });
  if (c.minSessionTimeoutMs > c.maxSessionTimeoutMs) {
    const src = get('minSessionTimeout') ?? get('maxSessionTimeout') ?? { value: '', where: cfgPath ?? 'the command line' };
    throw new ConfigError(`minSessionTimeout=${c.minSessionTimeoutMs} is larger than maxSessionTimeout=${c.maxSessionTimeoutMs} (${src.where}); ` +
      'make minSessionTimeout <= maxSessionTimeout');
  }
  num('snapCount', 'a whole number of transactions', 1, 2147483647, '100000', (n) => {
    if (n < 2) warnings.push(`snapCount=${n}: ZooKeeper needs at least 2; using snapCount=2`);
    c.snapCount = Math.max(2, n);
  });
  num('autopurge.snapRetainCount', 'a whole number of snapshots', 0, MAX, '3', (n) => {
    if (n < 3) warnings.push(`autopurge.snapRetainCount=${n}: ZooKeeper keeps at least 3 snapshots; using 3`);
    c.snapRetainCount = Math.max(3, n);
  });
  num('autopurge.purgeInterval', 'a whole number of hours', 0, 2147483647, '0', (n) => { c.purgeIntervalHours = n; });
  const wl = get('4lw.commands.whitelist');
  if (wl !== undefined) c.fourLetterWords = whitelist('4lw.commands.whitelist', wl, warnings);
  const jm = get('jute.maxbuffer');
  if (jm !== undefined) c.juteMaxBuffer = byteCount('jute.maxbuffer', jm);
  flag('forceSync', yesNo, (b) => { c.forceSync = b; });
  if (!c.forceSync) warnings.push('forceSync=no: acknowledged writes can be lost if the machine crashes');
  num('globalOutstandingLimit', 'a whole number of requests', 1, 2147483647, '1000', (n) => { c.globalOutstandingLimit = n; });
  flag('skipACL', yesNo, (b) => { c.skipACL = b; });
  if (c.skipACL) warnings.push('skipACL=yes: ACLs are not checked; every client can read and change every znode');
  flag('extendedTypesEnabled', trueFalse, (b) => { c.extendedTypesEnabled = b; });
  const sd = get('DigestAuthenticationProvider.superDigest');
  if (sd !== undefined) c.superDigest = superDigest('DigestAuthenticationProvider.superDigest', sd);
  num('znode.container.checkIntervalMs', 'a whole number of milliseconds', 1, MAX, '60000', (n) => { c.containerCheckIntervalMs = n; });
  num('znode.container.maxPerMinute', 'a whole number of deletions', 1, MAX, '10000', (n) => { c.containerMaxPerMinute = n; });
  num('znode.container.maxNeverUsedIntervalMs', 'a whole number of milliseconds', 0, MAX, '0', (n) => { c.containerMaxNeverUsedIntervalMs = n; });
  for (const [key, src] of settings) {
    if (SERVER_KEY.test(key)) c.ensemble.push(ensembleMember(key, src));
  }
  c.ensemble.sort((a, b) => a.id - b.id);
  return c;
}

/** server.N=host:quorumPort:electionPort[:participant][;[clientAddress:]clientPort], as ZooKeeper. */
function ensembleMember(key: string, src: Source): EnsembleMemberConfig {
  const id = Number(key.slice('server.'.length));
  const example = '127.0.0.1:2888:3888';
  if (id < 1 || id > 255) fail(key, src, 'the server id must be between 1 and 255 (it is the myid of that server)', `rename it, e.g. server.1=${example}`);
  // A ";[address:]clientPort" suffix only shows in /zookeeper/config: each member's own
  // clientPort= is where it listens.
  const [address = '', client] = src.value.split(';');
  const parts = address.trim().split(':');
  const role = parts.length === 4 ? parts[3] : 'participant';
  if (parts.length < 3 || parts.length > 4) fail(key, src, 'expected host:quorumPort:electionPort', `set ${key}=${example}`);
  if (role === 'observer') fail(key, src, 'observers are not supported yet', `make it a participant (${key}=${parts.slice(0, 3).join(':')}) or remove it`);
  if (role !== 'participant') fail(key, src, `unknown role "${role ?? ''}"`, `end it with :participant or nothing (${key}=${example})`);
  const host = hostAddress(key, { ...src, value: parts[0] ?? '' });
  const port = (text: string | undefined): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text ?? '') || n < 1 || n > 65535) fail(key, src, `"${text ?? ''}" is not a TCP port number`, `set ${key}=${example}`);
    return n;
  };
  let clientAddress: string | null = null;
  if (client !== undefined && client.trim() !== '') {
    const c = client.trim();
    const colon = c.lastIndexOf(':');
    const clientHost = colon < 0 ? '0.0.0.0' : hostAddress(key, { ...src, value: c.slice(0, colon) });
    clientAddress = `${clientHost}:${port(colon < 0 ? c : c.slice(colon + 1))}`;
  }
  return { id, host, quorumPort: port(parts[1]), electionPort: port(parts[2]), clientAddress };
}

function exampleFor(key: string): string {
  if (key === 'tickTime') return 'tickTime=2000';
  if (key === 'dataDir') return 'dataDir=/var/lib/zooraft';
  return 'clientPort=2181';
}

/** <dataDir>/myid holds the server id (1..255), as ZooKeeper; absent means 1. */
function readMyid(dataDir: string): number {
  const file = path.join(dataDir, 'myid');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 1;
    throw new ConfigError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); make it readable or remove it`);
  }
  const v = text.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 255) {
    throw new ConfigError(`myid "${v}" in ${file}: not a server id; write a whole number between 1 and 255 into ${file}`);
  }
  return Number(v);
}
