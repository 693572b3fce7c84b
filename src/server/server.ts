// The client-facing server: accepts connections, owns sessions, watches and the replica,
// and routes each request to its handler. The one place that knows both the network and
// the ZooKeeper state machine for a single server.
import net from 'node:net';
import type { Logger } from 'pino';
import {
  AuthPacket,
  ErrorCode,
  EventType,
  OpCode,
  SetWatches,
  SetWatches2,
  SyncRequest,
} from '../../wire/index.js';
import type { ConnectRequest, ConnectResponse, JuteReader, JuteWriter } from '../../wire/index.js';
import type { ServerConfig } from '../config.js';
import { digestId } from '../core/acl.js';
import { SessionTracker } from '../core/sessions.js';
import { WatchManager } from '../core/watches.js';
import type { ApplyOutcome, DataTree } from '../core/tree.js';
import { NodeKind, TxnType } from '../core/txn.js';
import type { TxnEntry } from '../core/txn.js';
import type { Replica, ReplicaRole } from '../replica/replica.js';
import type { Clock } from '../platform/clock.js';
import { randomBytes } from '../platform/random.js';
import { ClientConnection, deliverToMany } from './connection.js';
import { FANOUT_MIN_TARGETS, FanoutWriter } from './fanout-writer.js';
import { freshTraffic } from './traffic.js';
import type { TrafficCounters } from './traffic.js';
import * as reads from './handlers/read.js';
import type { ReadContext, ReadResult } from './handlers/read.js';
import { WRITE_OPCODES, decodeWrite, replyFor } from './handlers/write.js';
import { fourLetterWordOf, runFourLetterWord } from './four-letter.js';
import { buildFourLetterContext } from './four-letter-context.js';
import { ConnectionTable } from './connection-table.js';

/** ZooKeeper's session passwords are 16 bytes too. */
const PASSWORD_BYTES = 16;

function sessionPassword(): Buffer {
  return randomBytes(PASSWORD_BYTES);
}

type ReadHandler = (ctx: ReadContext, r: JuteReader) => ReadResult;

const READ_HANDLERS: ReadonlyMap<number, ReadHandler> = new Map<number, ReadHandler>([
  [OpCode.exists, reads.exists],
  [OpCode.getData, reads.getData],
  [OpCode.getChildren, reads.getChildren],
  [OpCode.getChildren2, reads.getChildren2],
  [OpCode.getACL, reads.getACL],
  [OpCode.sync, reads.sync],
  [OpCode.getAllChildrenNumber, reads.getAllChildrenNumber],
  [OpCode.getEphemerals, reads.getEphemerals],
  [OpCode.whoAmI, (ctx) => reads.whoAmI(ctx)],
  [OpCode.addWatch, reads.addWatch],
  [OpCode.checkWatches, reads.checkWatches],
  [OpCode.removeWatches, reads.removeWatches],
  [OpCode.multiRead, reads.multiRead],
]);

export interface ServerCounters extends TrafficCounters {
  authFailed: number;
  connectionRejected: number;
  sessionsExpired: number;
}

interface WriteOutcome {
  zxid: number;
  err: number;
  write?: (w: JuteWriter) => void;
}

export class ZkServer {
  readonly config: ServerConfig;
  readonly replica: Replica;
  readonly watches = new WatchManager((watchers, type, path) => deliverToMany(watchers, type, path, this.fanout));
  /** Writes big watch fan-outs from a second thread; started once there are enough connections. */
  private readonly fanout: FanoutWriter;
  readonly sessions: SessionTracker;
  readonly connections = new ConnectionTable<ClientConnection>();
  readonly counters: ServerCounters = freshCounters();
  readonly startedAtMs: number;
  readonly clock: Clock;
  traceMask = 306n;
  /** Requests read but not yet answered, all connections (globalOutstandingLimit). */
  outstandingTotal = 0;
  readonly throttled = new Set<ClientConnection>();
  private readonly log: Logger;
  /** Follower: sessions of this server's clients active since the last report to the leader. */
  private touchedSinceReport = new Map<bigint, number>();
  private readonly perIp = new Map<string, number>();
  private readonly listener: net.Server;
  private nextConnId = 1;
  private tickTimer: NodeJS.Timeout | null = null;
  private containerTimer: NodeJS.Timeout | null = null;

  constructor(config: ServerConfig, replica: Replica, clock: Clock, log: Logger) {
    this.config = config;
    this.replica = replica;
    this.clock = clock;
    this.log = log;
    this.fanout = new FanoutWriter(log);
    this.startedAtMs = clock.nowMs();
    this.sessions = new SessionTracker(config.tickTimeMs, config.serverId, clock.nowMs());
    // Sessions recovered from disk get a full timeout to reconnect, as in ZooKeeper.
    for (const s of replica.tree.sessions.values()) this.sessions.touch(s.sessionId, s.timeoutMs, clock.monotonicMs());
    replica.onApply = (outcome, entry) => this.onApply(outcome, entry);
    replica.onLeaderChange = (role) => this.onLeaderChange(role);
    replica.onSessionTouches = (touches) => {
      const now = this.clock.monotonicMs();
      for (const t of touches) if (this.sessions.has(t.sessionId)) this.sessions.touch(t.sessionId, t.timeoutMs, now);
    };
    this.listener = net.createServer((socket) => this.accept(socket));
  }

  get tree(): DataTree {
    return this.replica.tree;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(this.config.clientPort, this.config.clientPortAddress, () => {
        this.listener.off('error', reject);
        const addr = this.listener.address();
        this.tickTimer = setInterval(() => this.expireSessions(), this.config.tickTimeMs);
        this.containerTimer = setInterval(() => this.reapContainers(), this.config.containerCheckIntervalMs);
        resolve(typeof addr === 'object' && addr !== null ? addr.port : this.config.clientPort);
      });
    });
  }

  async close(): Promise<void> {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.containerTimer !== null) clearInterval(this.containerTimer);
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const c of this.connections.toArray()) c.destroy();
    await closed;
    await this.fanout.close();
    await this.replica.close();
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? '';
    const count = (this.perIp.get(ip) ?? 0) + 1;
    if (this.config.maxClientCnxns > 0 && count > this.config.maxClientCnxns) {
      this.counters.connectionRejected++;
      this.log.warn({ ip, maxClientCnxns: this.config.maxClientCnxns }, 'too many connections from one address; closing the new one (raise maxClientCnxns)');
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count);
    const conn = new ClientConnection(this.nextConnId++, socket, this, this.log);
    this.connections.add(conn);
    if (this.connections.size >= FANOUT_MIN_TARGETS) this.fanout.start();
  }

  connectionClosed(conn: ClientConnection): void {
    // Also drops the session's binding when this connection still held it.
    if (!this.connections.delete(conn)) return;
    const ip = conn.remoteAddress;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, left);
    this.watches.removeWatcher(conn, conn.watchedPaths);
  }

  /** Handshake: a new session is a createSession txn; a reconnect is checked against the replicated table. */
  async connect(conn: ClientConnection, req: ConnectRequest): Promise<ConnectResponse | null> {
    const tree = this.tree;
    if (this.replica.role === 'looking') {
      // As ZooKeeper: a member without a leader serves nobody; the client tries another server.
      this.log.info('refusing client: no leader in the ensemble');
      return null;
    }
    if (req.lastZxidSeen > BigInt(tree.lastZxid)) {
      // The client has seen a newer state than ours: it must try another server.
      this.log.info({ lastZxidSeen: req.lastZxidSeen.toString(), lastZxid: tree.lastZxid }, 'refusing client ahead of this server');
      return null;
    }
    const timeOut = Math.min(Math.max(req.timeOut, this.config.minSessionTimeoutMs), this.config.maxSessionTimeoutMs);
    const refused: ConnectResponse = { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: null };
    if (req.sessionId !== 0n) {
      // Any other connection of this session on this server goes first, even before the password check.
      const other = this.connections.forSession(req.sessionId);
      if (other !== undefined && other !== conn) {
        this.connections.unbindSession(req.sessionId);
        other.destroy();
      }
      const session = tree.sessions.get(req.sessionId);
      const passwd = req.passwd ?? Buffer.alloc(0);
      if (session === undefined || !this.sessions.has(req.sessionId) || !session.passwd.equals(passwd)) return refused;
      this.bindSession(conn, req.sessionId, timeOut);
      return { protocolVersion: 0, timeOut, sessionId: req.sessionId, passwd: session.passwd, readOnly: null };
    }
    const sessionId = this.sessions.newSessionId();
    const passwd = sessionPassword();
    const outcome = await this.replica.propose({ opcode: OpCode.createSession, sessionId, timeoutMs: timeOut, passwd }, sessionId, 0, { ids: [] });
    if (outcome.result.kind !== 'session') return refused;
    if (conn.isClosed) {
      // The client left before its session existed; it can still reconnect within the timeout.
      this.sessions.touch(sessionId, timeOut, this.clock.monotonicMs());
      return null;
    }
    this.bindSession(conn, sessionId, timeOut);
    return { protocolVersion: 0, timeOut, sessionId, passwd, readOnly: null };
  }

  private bindSession(conn: ClientConnection, sessionId: bigint, timeoutMs: number): void {
    conn.sessionId = sessionId;
    this.connections.bindSession(conn);
    conn.timeoutMs = timeoutMs;
    this.sessions.touch(sessionId, timeoutMs, this.clock.monotonicMs());
    if (this.replica.role === 'follower') this.touchedSinceReport.set(sessionId, timeoutMs);
  }

  touch(conn: ClientConnection): void {
    if (conn.sessionId !== 0n && this.sessions.has(conn.sessionId)) {
      this.sessions.touch(conn.sessionId, conn.timeoutMs, this.clock.monotonicMs());
      if (this.replica.role === 'follower') this.touchedSinceReport.set(conn.sessionId, conn.timeoutMs);
    }
  }

  readHandler(opcode: number): ReadHandler | null {
    return READ_HANDLERS.get(opcode) ?? null;
  }

  isWrite(opcode: number): boolean {
    return WRITE_OPCODES.has(opcode);
  }

  async submitWrite(conn: ClientConnection, xid: number, opcode: number, r: JuteReader): Promise<WriteOutcome> {
    let request;
    try {
      request = decodeWrite(opcode, r);
    } catch {
      return { zxid: this.tree.lastZxid, err: ErrorCode.MarshallingError };
    }
    if (request === null) return { zxid: this.tree.lastZxid, err: ErrorCode.MarshallingError };
    const outcome = await this.replica.propose(request, conn.sessionId, xid, { ids: conn.authIds });
    return { zxid: outcome.zxid, ...replyFor(outcome.result) };
  }

  /** sync in an ensemble: answered once this server has applied what the leader had committed. */
  async sync(r: JuteReader): Promise<WriteOutcome> {
    const { path } = SyncRequest.read(r);
    await this.replica.sync();
    return { zxid: this.tree.lastZxid, err: 0, write: (w) => w.writeUString(path) };
  }

  async closeSession(conn: ClientConnection): Promise<WriteOutcome> {
    const outcome = await this.replica.propose({ opcode: OpCode.closeSession }, conn.sessionId, 0, { ids: conn.authIds });
    return { zxid: outcome.zxid, err: 0 };
  }

  /** Runs as each txn applies, before its proposer is answered: session bookkeeping and watch events. */
  private onApply(outcome: ApplyOutcome, entry: TxnEntry): void {
    if (entry.txn.type === TxnType.createSession && !this.sessions.has(entry.txn.sessionId)) {
      // Created through another member: this one must know its deadline too (it may lead later).
      this.sessions.touch(entry.txn.sessionId, entry.txn.timeoutMs, this.clock.monotonicMs());
    }
    if (entry.txn.type === TxnType.closeSession) {
      const sessionId = entry.txn.sessionId;
      this.sessions.remove(sessionId);
      this.replica.prep.sessionClosed(sessionId);
      const conn = this.connections.forSession(sessionId);
      // A client that asked to close gets its reply first; an expired session's connection just goes.
      if (conn !== undefined && !conn.closeRequested) {
        this.connections.unbindSession(sessionId);
        conn.destroy();
      }
    }
    if (outcome.triggers.length > 0) this.watches.triggerAll(outcome.triggers);
  }

  authenticate(conn: ClientConnection, xid: number, r: JuteReader): void {
    let packet;
    try {
      packet = AuthPacket.read(r);
    } catch {
      conn.writeImmediate(xid, 0n, ErrorCode.MarshallingError, false);
      return;
    }
    const text = packet.auth === null ? '' : packet.auth.toString('utf8');
    if (packet.scheme === 'digest' && text.includes(':')) {
      const id = digestId(text);
      conn.authIds.push({ scheme: 'digest', id });
      if (this.config.superDigest !== null && id === this.config.superDigest) conn.authIds.push({ scheme: 'super', id: '' });
      conn.writeImmediate(xid, 0n, 0, false);
      return;
    }
    if (packet.scheme === 'ip') {
      conn.writeImmediate(xid, 0n, 0, false);
      return;
    }
    this.counters.authFailed++;
    this.log.info({ scheme: packet.scheme }, 'authentication failed; closing connection');
    conn.writeImmediate(xid, 0n, ErrorCode.AuthFailed, true);
  }

  /** setWatches/setWatches2 after a reconnect: fire what changed since relativeZxid, register the rest. */
  setWatches(conn: ClientConnection, opcode: number, r: JuteReader): ReadResult {
    const sw = opcode === OpCode.setWatches ? { ...SetWatches.read(r), persistentWatches: [], persistentRecursiveWatches: [] } : SetWatches2.read(r);
    const rel = sw.relativeZxid;
    const tree = this.tree;
    const track = (p: string): void => {
      conn.watchedPaths.add(p);
    };
    for (const p of sw.dataWatches) {
      const node = tree.get(p);
      if (node === undefined) conn.deliver(EventType.NodeDeleted, p);
      else if (BigInt(node.mzxid) > rel) conn.deliver(EventType.NodeDataChanged, p);
      else {
        this.watches.addData(p, conn);
        track(p);
      }
    }
    for (const p of sw.existWatches) {
      if (tree.get(p) !== undefined) conn.deliver(EventType.NodeCreated, p);
      else {
        this.watches.addData(p, conn);
        track(p);
      }
    }
    for (const p of sw.childWatches) {
      const node = tree.get(p);
      if (node === undefined) conn.deliver(EventType.NodeDeleted, p);
      else if (BigInt(node.pzxid) > rel) conn.deliver(EventType.NodeChildrenChanged, p);
      else {
        this.watches.addChild(p, conn);
        track(p);
      }
    }
    for (const p of sw.persistentWatches) {
      this.watches.addPersistent(p, conn, false);
      track(p);
    }
    for (const p of sw.persistentRecursiveWatches) {
      this.watches.addPersistent(p, conn, true);
      track(p);
    }
    return { err: 0 };
  }

  /**
   * A new leader (or none), or a tree replaced by a snapshot: every client reconnects, as
   * ZooKeeper's servers drop their clients when they lose or change their leader. A new leader
   * gives every session a full timeout from now, as after a restart.
   */
  private onLeaderChange(role: ReplicaRole): void {
    for (const c of this.connections.toArray()) c.destroy();
    this.touchedSinceReport.clear();
    // The tracker follows the replicated session table (a snapshot may have replaced it).
    const tree = this.tree;
    for (const id of [...this.sessions.ids()]) if (!tree.sessions.has(id)) this.sessions.remove(id);
    const now = this.clock.monotonicMs();
    for (const s of tree.sessions.values()) {
      if (role === 'leader' || !this.sessions.has(s.sessionId)) this.sessions.touch(s.sessionId, s.timeoutMs, now);
    }
  }

  private expireSessions(): void {
    const role = this.replica.role;
    if (role === 'follower') {
      // The leader alone expires sessions; it hears which of ours are alive.
      if (this.touchedSinceReport.size > 0) {
        this.replica.reportSessionTouches([...this.touchedSinceReport].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs })));
        this.touchedSinceReport.clear();
      }
      return;
    }
    if (role === 'looking') return;
    const expired = this.sessions.expire(this.clock.monotonicMs());
    for (const sessionId of expired) {
      this.counters.sessionsExpired++;
      this.log.info({ sessionId: `0x${BigInt.asUintN(64, sessionId).toString(16)}` }, 'session expired');
      this.replica.propose({ opcode: OpCode.closeSession }, sessionId, 0, { ids: [] }).catch((e: unknown) => {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'could not expire session');
      });
    }
  }

  /** ContainerManager: empty containers that once had children, and TTL nodes past their time. */
  private reapContainers(): void {
    if (this.replica.role !== 'leader' && this.replica.role !== 'standalone') return;
    const tree = this.tree;
    const now = this.clock.nowMs();
    const budget = Math.max(1, Math.floor((this.config.containerMaxPerMinute * this.config.containerCheckIntervalMs) / 60000));
    const doomed: string[] = [];
    for (const path of tree.containers) {
      const node = tree.get(path);
      if (node === undefined || node.numChildren > 0) continue;
      const neverUsedExpired = this.config.containerMaxNeverUsedIntervalMs > 0 && now - node.mtime > this.config.containerMaxNeverUsedIntervalMs;
      if (node.childCreates > 0 || neverUsedExpired) doomed.push(path);
    }
    for (const path of tree.ttls) {
      const node = tree.get(path);
      if (node !== undefined && node.kind === NodeKind.ttl && node.numChildren === 0 && now - node.mtime > node.ttlMs) doomed.push(path);
    }
    for (const path of doomed.slice(0, budget)) {
      this.replica.propose({ opcode: OpCode.deleteContainer, req: { path } }, 0n, 0, { ids: [] }).catch((e: unknown) => {
        this.log.error({ err: e instanceof Error ? e.message : String(e), path }, 'could not delete container');
      });
    }
  }

  get overloaded(): boolean {
    return this.outstandingTotal > this.config.globalOutstandingLimit;
  }

  resumeThrottled(): void {
    if (this.overloaded) return;
    for (const conn of [...this.throttled]) conn.maybeResume();
  }

  resetCounters(): void {
    Object.assign(this.counters, freshCounters());
  }

  fourLetterWordFor(code: number): string | null {
    return fourLetterWordOf(code);
  }

  runFourLetterWord(word: string, arg: bigint | undefined): string {
    return runFourLetterWord(word, buildFourLetterContext(this), arg);
  }
}

function freshCounters(): ServerCounters {
  return { ...freshTraffic(), authFailed: 0, connectionRejected: 0, sessionsExpired: 0 };
}
