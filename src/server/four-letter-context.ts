// Builds the snapshot the four-letter words format (src/server/four-letter.ts) from a live server.
import fs from 'node:fs';
import path from 'node:path';
import { OpCode } from '../../wire/index.js';
import { VERSION } from '../version.js';
import { readEnvironment } from './four-letter.js';
import type { ConnectionInfo, FourLetterContext, SessionInfo, WatchInfo } from './four-letter.js';
import type { ZkServer } from './server.js';

/** ZooKeeper's Request.op2String abbreviations, shown by cons. */
const OP_NAMES: ReadonlyMap<number, string> = new Map([
  [OpCode.notification, 'NOTI'],
  [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'],
  [OpCode.createContainer, 'CREA'],
  [OpCode.createTTL, 'CREA'],
  [OpCode.delete, 'DELE'],
  [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'],
  [OpCode.setData, 'SETD'],
  [OpCode.getACL, 'GETA'],
  [OpCode.setACL, 'SETA'],
  [OpCode.getChildren, 'GETC'],
  [OpCode.getChildren2, 'GETC'],
  [OpCode.sync, 'SYNC'],
  [OpCode.ping, 'PING'],
  [OpCode.check, 'CHEC'],
  [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'],
  [OpCode.auth, 'AUTH'],
  [OpCode.setWatches, 'SETW'],
  [OpCode.setWatches2, 'SETW'],
  [OpCode.closeSession, 'CLOS'],
  [OpCode.addWatch, 'ADDW'],
  [OpCode.whoAmI, 'WHOA'],
]);

function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile()) total += fs.statSync(path.join(dir, entry.name)).size;
    }
  } catch {
    return 0;
  }
  return total;
}

function openFileDescriptors(): number | null {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

function maxFileDescriptors(): number | null {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined ? null : Number(soft);
  } catch {
    return null;
  }
}

const ms = (v: number): number => (Number.isFinite(v) ? Math.round(v) : 0);

export function buildFourLetterContext(server: ZkServer): FourLetterContext {
  const tree = server.tree;
  const nowMono = server.clock.monotonicMs();
  const nowWall = server.clock.nowMs();
  const connections: ConnectionInfo[] = [...server.connections].map((c) => ({
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    interestOps: 1,
    outstandingRequests: c.outstanding,
    packetsReceived: c.stats.packetsReceived,
    packetsSent: c.stats.packetsSent,
    sessionId: c.sessionId,
    lastOperation: OP_NAMES.get(c.stats.lastOpcode) ?? 'NA',
    establishedMs: c.establishedAtMs,
    sessionTimeoutMs: c.timeoutMs,
    lastCxid: c.stats.packetsReceived > 0 ? c.stats.lastCxid : -1,
    lastZxid: BigInt(c.stats.lastZxid),
    lastResponseMs: c.stats.lastResponseMs,
    lastLatencyMs: ms(c.stats.lastLatencyMs),
    latencyMsMin: c.stats.latencyCount > 0 ? ms(c.stats.minLatencyMs) : 0,
    latencyMsMax: ms(c.stats.maxLatencyMs),
    latencyMsTotal: ms(c.stats.totalLatencyMs),
    latencyCount: c.stats.latencyCount,
    idleDeadlineMs: nowWall + c.timeoutMs,
  }));
  const sessions: SessionInfo[] = [...tree.sessions.values()].map((s) => ({
    sessionId: s.sessionId,
    timeoutMs: s.timeoutMs,
    expiresAtMs: nowWall + Math.max(0, (server.sessions.expireAt(s.sessionId) ?? nowMono) - nowMono),
    ephemeralPaths: [...(tree.ephemerals.get(s.sessionId) ?? [])],
  }));
  const dataWatches: WatchInfo[] = [];
  for (const [p, entries] of server.watches.data) for (const w of entries.keys()) dataWatches.push({ sessionId: w.sessionId, path: p });
  const c = server.counters;
  const outstanding = [...server.connections].reduce((n, conn) => n + conn.outstanding, 0);
  const counters = new Map<string, number>([
    ['snap_count', server.replica.stats.snapshotsTaken],
    ['connection_rejected', c.connectionRejected],
  ]);
  return {
    version: VERSION.zookeeperCompatible,
    builtOnMs: VERSION.builtOnMs,
    serving: server.replica.role !== 'looking',
    serverState: server.replica.role === 'looking' ? 'follower' : server.replica.role,
    config: server.config,
    stats: {
      packetsReceived: c.packetsReceived,
      packetsSent: c.packetsSent,
      outstandingRequests: outstanding,
      authFailedCount: c.authFailed,
      clientResponseBytesLast: -1,
      clientResponseBytesMin: -1,
      clientResponseBytesMax: -1,
      latencyMsMin: c.latencyCount > 0 ? ms(c.minLatencyMs) : 0,
      latencyMsMax: ms(c.maxLatencyMs),
      latencyMsTotal: ms(c.totalLatencyMs),
      latencyCount: c.latencyCount,
    },
    lastZxid: BigInt(tree.lastZxid),
    // ZooKeeper's DataTree counts the root twice ("" and "/").
    znodeCount: tree.nodeCount + 1,
    watchCount: server.watches.watchCount,
    approximateDataSize: tree.approximateDataSize,
    connections,
    sessions,
    dataWatches,
    dataDirSizeBytes: dirSize(server.config.dataDir),
    logDirSizeBytes: dirSize(server.config.dataLogDir),
    uptimeMs: nowWall - server.startedAtMs,
    openFileDescriptorCount: openFileDescriptors(),
    maxFileDescriptorCount: maxFileDescriptors(),
    environment: readEnvironment(),
    traceMask: server.traceMask,
    counters,
    resetConnectionStats: () => {
      for (const conn of server.connections) conn.resetStats();
    },
    resetServerStats: () => server.resetCounters(),
    setTraceMask: (mask) => {
      server.traceMask = mask;
    },
  };
}
