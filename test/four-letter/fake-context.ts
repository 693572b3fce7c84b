// A hand-built FourLetterContext: the formatters are pure, so a plain object is all they need.
// The values mirror a live ZooKeeper 3.8.0 session used to check the formats: one client with
// a session, an ephemeral /eph and data watches on /a, /a/b and /nope, plus the 4lw connection.
import { defaultConfig } from '../../src/config.js';
import type { ConnectionInfo, FourLetterContext } from '../../src/server/four-letter.js';

export const SESSION_ID = 0x10000037d000000n;
// 2026-11-22T00:49:45Z
export const SESSION_EXPIRY_MS = Date.UTC(2026, 10, 22, 0, 49, 45);

export function clientConnection(): ConnectionInfo {
  return {
    remoteAddress: '127.0.0.1', remotePort: 50998, interestOps: 1, outstandingRequests: 0,
    packetsReceived: 11, packetsSent: 11, sessionId: SESSION_ID, lastOperation: 'EXIS',
    establishedMs: 1795308570831, sessionTimeoutMs: 10000, lastCxid: 10, lastZxid: 4n,
    lastResponseMs: 243343, lastLatencyMs: 0, latencyMsMin: 0, latencyMsMax: 20, latencyMsTotal: 46,
    latencyCount: 11, idleDeadlineMs: Date.UTC(2026, 10, 22, 0, 49, 47),
  };
}

export function fourLetterConnection(): ConnectionInfo {
  return {
    remoteAddress: '::ffff:127.0.0.1', remotePort: 51030, interestOps: 0, outstandingRequests: 0,
    packetsReceived: 1, packetsSent: 0, sessionId: 0n, lastOperation: 'NA', establishedMs: 0,
    sessionTimeoutMs: 0, lastCxid: -1, lastZxid: -1n, lastResponseMs: 0, lastLatencyMs: 0,
    latencyMsMin: 0, latencyMsMax: 0, latencyMsTotal: 0, latencyCount: 0,
    idleDeadlineMs: Date.UTC(2026, 10, 22, 0, 49, 47),
  };
}

export interface FakeContext extends FourLetterContext {
  calls: string[];
}

export function fakeContext(overrides: Partial<FourLetterContext> = {}): FakeContext {
  const calls: string[] = [];
  const ctx: FakeContext = {
    calls,
    version: '3.8.0-zooraft-0.1.0',
    builtOnMs: Date.UTC(2024, 11, 29, 17, 54, 12),
    serving: true,
    serverState: 'standalone',
    config: defaultConfig({ clientPort: 21899, dataDir: '/tmp/zr/data', fourLetterWords: '*' }),
    stats: {
      packetsReceived: 27, packetsSent: 26, outstandingRequests: 0, authFailedCount: 0,
      latencyMsMin: 0, latencyMsMax: 20, latencyMsTotal: 46, latencyCount: 11,
      clientResponseBytesLast: 16, clientResponseBytesMin: 16, clientResponseBytesMax: 16,
    },
    lastZxid: 4n,
    znodeCount: 8,
    watchCount: 4,
    approximateDataSize: 55,
    connections: [clientConnection(), fourLetterConnection()],
    sessions: [{ sessionId: SESSION_ID, timeoutMs: 10000, expiresAtMs: SESSION_EXPIRY_MS, ephemeralPaths: ['/eph'] }],
    dataWatches: [
      { sessionId: SESSION_ID, path: '/nope' },
      { sessionId: SESSION_ID, path: '/a' },
      { sessionId: SESSION_ID, path: '/a/b' },
    ],
    dataDirSizeBytes: 67109337,
    logDirSizeBytes: 67109337,
    uptimeMs: 32234,
    openFileDescriptorCount: 40,
    maxFileDescriptorCount: 20000,
    environment: {
      hostName: 'localhost', osName: 'Linux', osArch: 'amd64', osVersion: '6.1.0',
      userName: 'zk', userHome: '/home/zk', userDir: '/srv/zooraft',
      memoryBytesFree: 369 * 1024 * 1024 + 5, memoryBytesMax: 6028 * 1024 * 1024, memoryBytesTotal: 388 * 1024 * 1024,
    },
    traceMask: 306n,
    resetConnectionStats: () => { calls.push('resetConnectionStats'); },
    resetServerStats: () => { calls.push('resetServerStats'); },
    setTraceMask: (mask: bigint) => { calls.push(`setTraceMask ${mask}`); },
    ...overrides,
  };
  return ctx;
}
