// The server's whole configuration, validated once at start-up (src/cli/zoocfg.ts builds it
// from a zoo.cfg plus command-line flags). Nothing else reads configuration from globals.

/** One server.N line: server.1=host:quorumPort:electionPort. */
export interface EnsembleMemberConfig {
  id: number;
  host: string;
  /** zooraft's Raft traffic uses this port. */
  quorumPort: number;
  /** Accepted for zoo.cfg compatibility; Raft needs no separate election port. */
  electionPort: number;
  /** The optional ";[address:]port" part, as "address:port" (address 0.0.0.0 when absent). */
  clientAddress: string | null;
}

/** /zookeeper/config as a ZooKeeper 3.8 member shows it: one line per member, then version=0. */
export function ensembleConfigText(members: readonly EnsembleMemberConfig[]): string {
  const lines = members.map((m) => `server.${m.id}=${m.host}:${m.quorumPort}:${m.electionPort}:participant${m.clientAddress === null ? '' : `;${m.clientAddress}`}`);
  return [...lines, 'version=0'].join('\n');
}

export interface ServerConfig {
  /** ZooKeeper's base time unit, ms. Session expiry is checked once per tick. */
  tickTimeMs: number;
  /** Snapshots (and, unless dataLogDir is set, the write-ahead log). */
  dataDir: string;
  /** Write-ahead log; defaults to dataDir. */
  dataLogDir: string;
  /** 0 binds an ephemeral port (tests). */
  clientPort: number;
  clientPortAddress: string;
  /** Connections per client IP; 0 = unlimited. */
  maxClientCnxns: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** Transactions between snapshots (ZooKeeper randomizes in [snapCount/2+1, snapCount]). */
  snapCount: number;
  /** autopurge.snapRetainCount: snapshots (and the logs they need) kept; minimum 3. */
  snapRetainCount: number;
  /** autopurge.purgeInterval in hours; 0 = off, as in ZooKeeper. */
  purgeIntervalHours: number;
  /** 4lw.commands.whitelist: '*' or the set of enabled words. */
  fourLetterWords: '*' | ReadonlySet<string>;
  /** jute.maxbuffer: largest frame accepted. */
  juteMaxBuffer: number;
  /** zookeeper.extendedTypesEnabled: TTL nodes. */
  extendedTypesEnabled: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 sha1>", or null. */
  superDigest: string | null;
  /** forceSync: fsync the log before acknowledging. */
  forceSync: boolean;
  /** znode.container.checkIntervalMs / maxPerMinute / maxNeverUsedIntervalMs. */
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  containerMaxNeverUsedIntervalMs: number;
  /** myid; 1 for a standalone server without a myid file (as ZooKeeper). */
  serverId: number;
  /** globalOutstandingLimit: requests in flight before the server stops reading sockets. */
  globalOutstandingLimit: number;
  /** skipACL: no ACL checks at all. */
  skipACL: boolean;
  /** server.N lines. Two or more: this server is a member of a Raft ensemble; else standalone. */
  ensemble: EnsembleMemberConfig[];
}

export const DEFAULT_TICK_TIME_MS = 2000;

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const tickTimeMs = overrides.tickTimeMs ?? DEFAULT_TICK_TIME_MS;
  const dataDir = overrides.dataDir ?? './data';
  return {
    tickTimeMs,
    dataDir,
    dataLogDir: overrides.dataLogDir ?? dataDir,
    clientPort: 2181,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: 60,
    minSessionTimeoutMs: 2 * tickTimeMs,
    maxSessionTimeoutMs: 20 * tickTimeMs,
    snapCount: 100000,
    snapRetainCount: 3,
    purgeIntervalHours: 0,
    fourLetterWords: new Set(['srvr']),
    juteMaxBuffer: 0xfffff,
    extendedTypesEnabled: false,
    superDigest: null,
    forceSync: true,
    containerCheckIntervalMs: 60000,
    containerMaxPerMinute: 10000,
    containerMaxNeverUsedIntervalMs: 0,
    serverId: 1,
    globalOutstandingLimit: 1000,
    skipACL: false,
    ensemble: [],
    ...overrides,
  };
}
