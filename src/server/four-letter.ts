// Four-letter words ("4lw": ruok, srvr, mntr, ...) as pure text formatting.
//
// The connection layer recognises a 4lw from the first 4 bytes of a connection (the int
// fourLetterCode() returns, where a ConnectRequest would carry its frame length), checks the
// whitelist with isFourLetterWordEnabled(), calls runFourLetterWord() with a snapshot of the
// server and writes the returned text, then closes the connection (ZooKeeper does the same).
// Formats follow ZooKeeper 3.8 byte for byte (checked against a live 3.8.0 server): field
// names, spacing, which lines end in "\n" and which answers (ruok, isro, gtmk) do not.
import type { ServerConfig } from '../config.js';
import * as os from 'node:os';
import { nodeV8 } from '../platform/builtins.js';

export type ServerState = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/** A latency summary as ZooKeeper keeps it (AvgMinMaxCounter): integer ms. */
export interface LatencyStats {
  latencyMsMin: number;
  latencyMsMax: number;
  latencyMsTotal: number;
  latencyCount: number;
}

/** ServerStats: counters since start or the last `srst`. */
export interface ServerStatsSnapshot extends LatencyStats {
  packetsReceived: number;
  packetsSent: number;
  /** Requests read but not yet answered, all connections. */
  outstandingRequests: number;
  authFailedCount: number;
  /** Serialized reply sizes in bytes; -1 until the first reply (as ZooKeeper). */
  clientResponseBytesLast: number;
  clientResponseBytesMin: number;
  clientResponseBytesMax: number;
}

/** One client connection, including the 4lw connection asking (ZooKeeper counts it too). */
export interface ConnectionInfo extends LatencyStats {
  /** Remote IP as Node reports it ("127.0.0.1", "::1", "::ffff:10.0.0.1"). */
  remoteAddress: string;
  remotePort: number;
  /** Java selector interest ops: 1 while reading requests, 0 when paused (and for 4lw connections). */
  interestOps: number;
  outstandingRequests: number;
  packetsReceived: number;
  packetsSent: number;
  /** 0n until the ConnectRequest has been answered; the session fields below are only shown after. */
  sessionId: bigint;
  /** ZooKeeper's 4-letter op name of the last request ("NA" none, "GETD", "CREA", "PING", ...). */
  lastOperation: string;
  /** Epoch ms the session was established on this connection. */
  establishedMs: number;
  sessionTimeoutMs: number;
  /** xid of the last request; -1 when none (then lcxid is left out, as ZooKeeper). */
  lastCxid: number;
  lastZxid: bigint;
  /** When the last reply went out, ms on the server's clock. */
  lastResponseMs: number;
  lastLatencyMs: number;
  /** Epoch ms at which the server closes this connection if nothing arrives (dump). */
  idleDeadlineMs: number;
}

export interface SessionInfo {
  sessionId: bigint;
  timeoutMs: number;
  /** Epoch ms, already rounded to the expiry bucket (tick) the session tracker uses. */
  expiresAtMs: number;
  ephemeralPaths: readonly string[];
}

/** One (session, path) data watch. ZooKeeper's wchs/wchc/wchp list data watches only (getData
 *  and exists watches, persistent ones included), not child watches; mntr counts both. */
export interface WatchInfo {
  sessionId: bigint;
  path: string;
}

/** A summary metric, printed as zk_{avg,min,max,cnt,sum}_<name> (+ p50/p95/p99/p999 if given). */
export interface SummaryStat {
  count: number;
  sum: number;
  min: number;
  max: number;
  percentiles?: { p50: number; p95: number; p99: number; p999: number };
}

/** `envi` facts, with ZooKeeper's key meanings; readEnvironment() fills it from Node. */
export interface EnvironmentInfo {
  hostName: string;
  osName: string;
  osArch: string;
  osVersion: string;
  userName: string;
  userHome: string;
  userDir: string;
  memoryBytesFree: number;
  memoryBytesMax: number;
  memoryBytesTotal: number;
}

/** What the four-letter words read from the server; a snapshot taken per command. */
export interface FourLetterContext {
  /** "3.8.0-zooraft-<package version>"; must match [A-Za-z0-9.-]+ (go-zookeeper). */
  version: string;
  /** Build time, epoch ms; printed "built on YYYY-MM-DD HH:MM UTC". */
  builtOnMs: number;
  /** false while the server cannot serve clients (starting, no leader): most words then answer
   *  "This ZooKeeper instance is not currently serving requests". */
  serving: boolean;
  serverState: ServerState;
  config: ServerConfig;
  stats: ServerStatsSnapshot;
  lastZxid: bigint;
  znodeCount: number;
  /** Data + child watches (mntr zk_watch_count). */
  watchCount: number;
  approximateDataSize: number;
  connections: readonly ConnectionInfo[];
  sessions: readonly SessionInfo[];
  dataWatches: readonly WatchInfo[];
  dataDirSizeBytes: number;
  logDirSizeBytes: number;
  uptimeMs: number;
  /** null where the platform cannot tell (ZooKeeper then leaves the mntr keys out). */
  openFileDescriptorCount: number | null;
  maxFileDescriptorCount: number | null;
  environment: EnvironmentInfo;
  /** gtmk/stmk trace mask; ZooKeeper's default is 306. */
  traceMask: bigint;
  /** Extra mntr counters/gauges by name without "zk_" (e.g. "snap_count", "commit_count",
   *  "learners"). Only keys given here appear beyond the core set: no invented values. */
  counters?: ReadonlyMap<string, number>;
  /** Extra mntr summaries by name (e.g. "fsynctime", "readlatency"). */
  summaries?: ReadonlyMap<string, SummaryStat>;
  resetConnectionStats(): void;
  resetServerStats(): void;
  setTraceMask(mask: bigint): void;
}

export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  'ruok', 'srvr', 'stat', 'mntr', 'conf', 'envi', 'cons', 'isro', 'dump',
  'wchs', 'wchc', 'wchp', 'dirs', 'crst', 'srst', 'gtmk', 'stmk',
]);

/** The frame-length int a 4lw occupies: its 4 ASCII bytes, big-endian. */
export function fourLetterCode(word: string): number {
  if (word.length !== 4) throw new RangeError(`four-letter word must be 4 characters: ${word}`);
  let code = 0;
  for (let i = 0; i < 4; i++) code = (code << 8) | (word.charCodeAt(i) & 0xff);
  return code;
}

const WORD_BY_CODE: ReadonlyMap<number, string> = new Map([...FOUR_LETTER_WORDS].map((w) => [fourLetterCode(w), w]));

/** The word whose code is `code` (the first 4 bytes as a signed int32 BE), or null. */
export function fourLetterWordOf(code: number): string | null {
  return WORD_BY_CODE.get(code) ?? null;
}

export function isFourLetterWordEnabled(word: string, config: ServerConfig): boolean {
  return config.fourLetterWords === '*' || config.fourLetterWords.has(word);
}

/** `stmk` is followed by an 8-byte big-endian trace mask, which the caller reads and passes. */
export const STMK_ARGUMENT_BYTES = 8;

const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests\n';

/** ZooKeeper's answer to `word`. Not-whitelisted and unknown words get ZooKeeper's texts too. */
export function runFourLetterWord(word: string, ctx: FourLetterContext, traceMaskArg?: bigint): string {
  if (!FOUR_LETTER_WORDS.has(word)) return '';
  if (!isFourLetterWordEnabled(word, ctx.config)) return `${word} is not executed because it is not in the whitelist.\n`;
  switch (word) {
    case 'ruok': return 'imok';
    case 'envi': return formatEnvi(ctx);
    case 'isro': return ctx.serving ? (ctx.serverState === 'read-only' ? 'ro' : 'rw') : 'null';
    case 'gtmk': return String(ctx.traceMask);
    case 'stmk':
      if (traceMaskArg !== undefined) ctx.setTraceMask(traceMaskArg);
      return String(traceMaskArg ?? ctx.traceMask);
    default: break;
  }
  if (!ctx.serving) return ZK_NOT_SERVING;
  switch (word) {
    case 'srvr': return formatStat(ctx, false);
    case 'stat': return formatStat(ctx, true);
    case 'mntr': return formatMntr(ctx);
    case 'conf': return formatConf(ctx);
    case 'cons': return ctx.connections.map((c) => `${formatConnection(c, false)}\n`).join('') + '\n';
    case 'dump': return formatDump(ctx);
    case 'wchs': return formatWatchSummary(ctx.dataWatches);
    case 'wchc': return formatWatches(ctx.dataWatches, false);
    case 'wchp': return formatWatches(ctx.dataWatches, true);
    case 'dirs': return `datadir_size: ${ctx.dataDirSizeBytes}\nlogdir_size: ${ctx.logDirSizeBytes}\n`;
    case 'crst': ctx.resetConnectionStats(); return 'Connection stats reset.\n';
    case 'srst': ctx.resetServerStats(); return 'Server stats reset.\n';
    default: return '';
  }
}

// ---- number and date formatting as Java prints them ----

/** Java's Double.toString for the values ZooKeeper prints (always at least one decimal). */
export function javaDouble(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** ZooKeeper's average: total/count rounded half-up to 4 decimals, 0 with no samples. */
function average4(total: number, count: number): number {
  return count > 0 ? Math.round((total / count) * 10000) / 10000 : 0;
}

/** Java's Long.toHexString: two's-complement 64-bit, lowercase, no padding. */
export function hex64(x: bigint): string {
  return BigInt.asUintN(64, x).toString(16);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2024-12-29 17:54 UTC", the "built on" date of ZooKeeper 3.5+ version strings. */
export function formatBuiltOn(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;
}

/** java.util.Date.toString() in UTC: "Sun Nov 22 00:49:41 UTC 2026". */
export function formatJavaDate(ms: number): string {
  const d = new Date(ms);
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()] ?? ''} ${MONTHS[d.getUTCMonth()] ?? ''} ${pad2(d.getUTCDate())} ${time} UTC ${d.getUTCFullYear()}`;
}

/** InetSocketAddress.toString(): "/127.0.0.1:52598"; IPv6 written out as Java does
 *  ("/0:0:0:0:0:0:0:1:52598"); IPv4-mapped addresses shown as plain IPv4. */
export function formatSocketAddress(address: string, port: number): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return `/${mapped[1]}:${port}`;
  return `/${address.includes(':') ? expandIpv6(address) : address}:${port}`;
}

function expandIpv6(address: string): string {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => (/^[0-9a-f]+$/i.test(g) ? parseInt(g, 16).toString(16) : g)).join(':');
}

// ---- srvr / stat / cons ----

function latencyLine(s: LatencyStats): string {
  const min = s.latencyCount > 0 ? s.latencyMsMin : 0;
  const max = s.latencyCount > 0 ? s.latencyMsMax : 0;
  return `Latency min/avg/max: ${min}/${javaDouble(average4(s.latencyMsTotal, s.latencyCount))}/${max}\n`;
}

function fullVersion(ctx: FourLetterContext): string {
  return `${ctx.version}, built on ${formatBuiltOn(ctx.builtOnMs)}`;
}

function formatStat(ctx: FourLetterContext, withClients: boolean): string {
  let out = `Zookeeper version: ${fullVersion(ctx)}\n`;
  if (ctx.serverState === 'read-only') out += 'READ-ONLY mode; serving only read-only clients\n';
  if (withClients) {
    out += 'Clients:\n';
    for (const c of ctx.connections) out += `${formatConnection(c, true)}\n`;
    out += '\n';
  }
  const s = ctx.stats;
  out += latencyLine(s);
  out += `Received: ${s.packetsReceived}\nSent: ${s.packetsSent}\nConnections: ${ctx.connections.length}\n`;
  out += `Outstanding: ${s.outstandingRequests}\nZxid: 0x${hex64(ctx.lastZxid)}\nMode: ${ctx.serverState}\n`;
  out += `Node count: ${ctx.znodeCount}\n`;
  return out;
}

/** ServerCnxn.dumpConnectionInfo: brief for stat, full for cons (no trailing newline). */
export function formatConnection(c: ConnectionInfo, brief: boolean): string {
  let out = ` ${formatSocketAddress(c.remoteAddress, c.remotePort)}[${c.interestOps}]`;
  out += `(queued=${c.outstandingRequests},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    out += `,sid=0x${hex64(c.sessionId)},lop=${c.lastOperation},est=${c.establishedMs},to=${c.sessionTimeoutMs}`;
    if (c.lastCxid >= 0) out += `,lcxid=0x${c.lastCxid.toString(16)}`;
    const avg = c.latencyCount > 0 ? Math.floor(c.latencyMsTotal / c.latencyCount) : 0;
    const min = c.latencyCount > 0 ? c.latencyMsMin : 0;
    out += `,lzxid=0x${hex64(c.lastZxid)},lresp=${c.lastResponseMs},llat=${c.lastLatencyMs}`;
    out += `,minlat=${min},avglat=${avg},maxlat=${c.latencyMsMax}`;
  }
  return `${out})`;
}

// ---- conf / envi / dump / watches ----

function formatConf(ctx: FourLetterContext): string {
  const c = ctx.config;
  const lines = [
    `clientPort=${c.clientPort}`, 'secureClientPort=-1',
    `dataDir=${c.dataDir}`, `dataDirSize=${ctx.dataDirSizeBytes}`,
    `dataLogDir=${c.dataLogDir}`, `dataLogSize=${ctx.logDirSizeBytes}`,
    `tickTime=${c.tickTimeMs}`, `maxClientCnxns=${c.maxClientCnxns}`,
    `minSessionTimeout=${c.minSessionTimeoutMs}`, `maxSessionTimeout=${c.maxSessionTimeoutMs}`,
    'clientPortListenBacklog=-1', `serverId=${c.serverId}`,
  ];
  return lines.map((l) => `${l}\n`).join('');
}

const MB = 1024 * 1024;

function formatEnvi(ctx: FourLetterContext): string {
  const e = ctx.environment;
  const lines = [
    `zookeeper.version=${fullVersion(ctx)}`, `host.name=${e.hostName}`,
    `os.name=${e.osName}`, `os.arch=${e.osArch}`, `os.version=${e.osVersion}`,
    `user.name=${e.userName}`, `user.home=${e.userHome}`, `user.dir=${e.userDir}`,
    `os.memory.free=${Math.floor(e.memoryBytesFree / MB)}MB`,
    `os.memory.max=${Math.floor(e.memoryBytesMax / MB)}MB`,
    `os.memory.total=${Math.floor(e.memoryBytesTotal / MB)}MB`,
  ];
  return `Environment:\n${lines.map((l) => `${l}\n`).join('')}`;
}

const compareIds = (a: bigint, b: bigint): number => {
  const ua = BigInt.asUintN(64, a);
  const ub = BigInt.asUintN(64, b);
  return ua < ub ? -1 : ua > ub ? 1 : 0;
};

/** ExpiryQueue.dump: "Sets (buckets)/(items):" then "<n> expire at <date>:" and "\t<item>" lines. */
function formatExpirySets<T>(items: readonly T[], deadline: (t: T) => number, show: (t: T) => string): string {
  const buckets = new Map<number, T[]>();
  for (const item of items) {
    const at = deadline(item);
    const bucket = buckets.get(at);
    if (bucket === undefined) buckets.set(at, [item]);
    else bucket.push(item);
  }
  let out = `Sets (${buckets.size})/(${items.length}):\n`;
  for (const at of [...buckets.keys()].sort((a, b) => a - b)) {
    const bucket = buckets.get(at) ?? [];
    out += `${bucket.length} expire at ${formatJavaDate(at)}:\n`;
    for (const item of bucket) out += `\t${show(item)}\n`;
  }
  return out;
}

function formatDump(ctx: FourLetterContext): string {
  const sessions = [...ctx.sessions].sort((a, b) => compareIds(a.sessionId, b.sessionId));
  let out = 'SessionTracker dump:\nSession ';
  out += formatExpirySets(sessions, (s) => s.expiresAtMs, (s) => `0x${hex64(s.sessionId)}`);
  const withEphemerals = sessions.filter((s) => s.ephemeralPaths.length > 0);
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${withEphemerals.length}):\n`;
  for (const s of withEphemerals) {
    out += `0x${hex64(s.sessionId)}:\n`;
    for (const path of [...s.ephemeralPaths].sort()) out += `\t${path}\n`;
  }
  out += 'Connections dump:\nConnections ';
  out += formatExpirySets(ctx.connections, (c) => c.idleDeadlineMs,
    (c) => `ip: ${formatSocketAddress(c.remoteAddress, c.remotePort)} sessionId: 0x${hex64(c.sessionId)}`);
  return out;
}

function formatWatchSummary(watches: readonly WatchInfo[]): string {
  const sessions = new Set(watches.map((w) => w.sessionId));
  const paths = new Set(watches.map((w) => w.path));
  return `${sessions.size} connections watching ${paths.size} paths\nTotal watches:${watches.length}\n`;
}

/** WatchManager.dumpWatches (sorted here, for stable output) plus the command's final newline. */
function formatWatches(watches: readonly WatchInfo[], byPath: boolean): string {
  const groups = new Map<string, string[]>();
  const sorted = [...watches].sort((a, b) =>
    byPath ? a.path.localeCompare(b.path) || compareIds(a.sessionId, b.sessionId)
      : compareIds(a.sessionId, b.sessionId) || a.path.localeCompare(b.path));
  for (const w of sorted) {
    const key = byPath ? w.path : `0x${hex64(w.sessionId)}`;
    const entry = byPath ? `0x${hex64(w.sessionId)}` : w.path;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [entry]);
    else list.push(entry);
  }
  let out = '';
  for (const [key, entries] of groups) out += `${key}\n${entries.map((e) => `\t${e}\n`).join('')}`;
  return `${out}\n`;
}

// ---- mntr ----

// Key order of ZooKeeper 3.8.0's standalone mntr (docs: reference/mntr-3.8.0-standalone.txt).
const MNTR_SCALARS = `version server_state ephemerals_count num_alive_connections avg_latency
outstanding_requests znode_count global_sessions non_mtls_remote_conn_count last_client_response_size
packets_sent packets_received max_client_response_size connection_drop_probability watch_count
auth_failed_count min_latency max_file_descriptor_count approximate_data_size open_file_descriptor_count
local_sessions uptime max_latency outstanding_tls_handshake min_client_response_size
non_mtls_local_conn_count proposal_count watch_bytes outstanding_changes_removed throttled_ops
stale_requests_dropped large_requests_rejected insecure_admin_count connection_rejected
cnxn_closed_without_zk_server_running sessionless_connections_expired looking_count dead_watchers_queued
stale_requests connection_drop_count learner_proposal_received_count digest_mismatches_count
dead_watchers_cleared response_packet_cache_hits bytes_received_count add_dead_watcher_stall_time
request_throttle_wait_count requests_not_forwarded_to_commit_processor response_packet_cache_misses
ensemble_auth_success prep_processor_request_queued learner_commit_received_count stale_replies
connection_request_count response_bytes ensemble_auth_fail diff_count
response_packet_get_children_cache_misses connection_revalidate_count quit_leading_due_to_disloyal_voter
snap_count unrecoverable_error_count unsuccessful_handshake commit_count stale_sessions_expired
response_packet_get_children_cache_hits sync_processor_request_queued outstanding_changes_queued
request_commit_queued ensemble_auth_skip skip_learner_request_to_next_processor_count
tls_handshake_exceeded revalidate_count`.split(/\s+/);

const MNTR_SUMMARIES = `socket_closing_time proposal_process_time leader_unavailable_time
node_created_watch_count session_queues_drained write_commit_proc_req_queued connection_token_deficit
read_commit_proc_req_queued node_deleted_watch_count startup_txns_load_time sync_processor_queue_size
follower_sync_time prep_processor_queue_size fsynctime inflight_snap_count reads_issued_from_session_queue
learner_request_processor_queue_size snapshottime unavailable_time startup_txns_loaded
reads_after_write_in_session_queue requests_in_session_queue write_commit_proc_issued prep_process_time
pending_session_queue_size time_waiting_empty_pool_in_commit_processor_read_ms commit_process_time
dbinittime inflight_diff_count netty_queued_buffer_capacity election_time commit_commit_proc_req_queued
sync_processor_batch_size node_children_watch_count write_batch_time_in_commit_processor
read_commit_proc_issued concurrent_request_processing_in_commit_processor observer_sync_time
node_changed_watch_count sync_process_time startup_snap_load_time prep_processor_queue_time_ms
jvm_pause_time_ms close_session_prep_time read_commitproc_time_ms updatelatency
local_write_committed_time_ms request_throttle_queue_time_ms readlatency quorum_ack_latency
om_commit_process_time_ms read_final_proc_time_ms commit_propagation_latency
dead_watchers_cleaner_latency write_final_proc_time_ms proposal_ack_creation_latency proposal_latency
om_proposal_process_time_ms sync_processor_queue_and_flush_time_ms propagation_latency
server_write_committed_time_ms sync_processor_queue_time_ms sync_processor_queue_flush_time_ms
write_commitproc_time_ms`.split(/\s+/);

/** Keys every mntr carries (ZOOKEEPER.md 8.3); the rest of MNTR_SCALARS only when counted. */
function coreMntrValue(key: string, ctx: FourLetterContext): string | undefined {
  const s = ctx.stats;
  const counted = (name: string): string => String(ctx.counters?.get(name) ?? 0);
  switch (key) {
    case 'version': return fullVersion(ctx);
    case 'server_state': return ctx.serverState;
    case 'ephemerals_count': return String(ctx.sessions.reduce((n, x) => n + x.ephemeralPaths.length, 0));
    case 'num_alive_connections': return String(ctx.connections.length);
    case 'avg_latency': return javaDouble(average4(s.latencyMsTotal, s.latencyCount));
    case 'min_latency': return String(s.latencyCount > 0 ? s.latencyMsMin : 0);
    case 'max_latency': return String(s.latencyCount > 0 ? s.latencyMsMax : 0);
    case 'outstanding_requests': return String(s.outstandingRequests);
    case 'znode_count': return String(ctx.znodeCount);
    case 'global_sessions': return String(ctx.sessions.length);
    case 'packets_sent': return String(s.packetsSent);
    case 'packets_received': return String(s.packetsReceived);
    case 'last_client_response_size': return String(s.clientResponseBytesLast);
    case 'min_client_response_size': return String(s.clientResponseBytesMin);
    case 'max_client_response_size': return String(s.clientResponseBytesMax);
    case 'connection_drop_probability': return javaDouble(ctx.counters?.get(key) ?? 0);
    case 'watch_count': return String(ctx.watchCount);
    case 'auth_failed_count': return String(s.authFailedCount);
    case 'approximate_data_size': return String(ctx.approximateDataSize);
    case 'uptime': return String(ctx.uptimeMs);
    case 'open_file_descriptor_count': return ctx.openFileDescriptorCount?.toString();
    case 'max_file_descriptor_count': return ctx.maxFileDescriptorCount?.toString();
    // No local sessions, TLS or mTLS, throttling or watch-byte accounting (yet): ZooKeeper reports 0.
    case 'local_sessions': case 'non_mtls_remote_conn_count': case 'non_mtls_local_conn_count':
    case 'outstanding_tls_handshake': case 'watch_bytes': case 'throttled_ops':
      return counted(key);
    default: return ctx.counters?.get(key)?.toString();
  }
}

function summaryLines(name: string, st: SummaryStat): string[] {
  const lines = [
    [`avg_${name}`, javaDouble(average4(st.sum, st.count))], [`min_${name}`, String(st.count > 0 ? st.min : 0)],
    [`max_${name}`, String(st.count > 0 ? st.max : 0)], [`cnt_${name}`, String(st.count)], [`sum_${name}`, String(st.sum)],
  ];
  const p = st.percentiles;
  if (p !== undefined) {
    lines.push([`p50_${name}`, String(p.p50)], [`p95_${name}`, String(p.p95)],
      [`p99_${name}`, String(p.p99)], [`p999_${name}`, String(p.p999)]);
  }
  return lines.map(([k, v]) => `zk_${k ?? ''}\t${v ?? ''}\n`);
}

function formatMntr(ctx: FourLetterContext): string {
  let out = '';
  for (const key of MNTR_SCALARS) {
    const value = coreMntrValue(key, ctx);
    if (value !== undefined) out += `zk_${key}\t${value}\n`;
  }
  const known = new Set(MNTR_SCALARS);
  for (const [key, value] of ctx.counters ?? []) if (!known.has(key)) out += `zk_${key}\t${value}\n`;
  const summaries = ctx.summaries ?? new Map<string, SummaryStat>();
  for (const name of MNTR_SUMMARIES) {
    const st = summaries.get(name);
    if (st !== undefined) out += summaryLines(name, st).join('');
  }
  const knownSummaries = new Set(MNTR_SUMMARIES);
  for (const [name, st] of summaries) if (!knownSummaries.has(name)) out += summaryLines(name, st).join('');
  return out;
}

// ---- the one impure helper: the envi facts of this process ----

const JAVA_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: 'x86', arm64: 'aarch64' };

/** EnvironmentInfo for this process, in Java's vocabulary (os.arch "amd64", heap as "memory"). */
export function readEnvironment(): EnvironmentInfo {
  const user = os.userInfo();
  const mem = process.memoryUsage();
  return {
    hostName: os.hostname(),
    osName: os.type(),
    osArch: JAVA_ARCH[process.arch] ?? process.arch,
    osVersion: os.release(),
    userName: user.username,
    userHome: user.homedir,
    userDir: process.cwd(),
    memoryBytesFree: Math.max(0, mem.heapTotal - mem.heapUsed),
    memoryBytesMax: nodeV8().getHeapStatistics().heap_size_limit,
    memoryBytesTotal: mem.heapTotal,
  };
}
