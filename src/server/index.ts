// startServer: recover the replica from disk, then serve clients.
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { ensembleConfigText } from '../config.js';
import type { ServerConfig } from '../config.js';
import { systemClock } from '../platform/clock.js';
import { SingleNodeReplica } from '../replica/single-node.js';
import { RaftReplica } from '../replica/raft-replica.js';
import type { Replica } from '../replica/replica.js';
import { ZkServer } from './server.js';
import { decodeWriteBody, encodeWriteBody } from './handlers/write.js';

/** Raft timing: heartbeats every 100 ms; a follower that hears nothing for 1-2 s starts an election. */
const RAFT_TICK_MS = 50;
const RAFT_HEARTBEAT_TICKS = 2;
const RAFT_ELECTION_TICKS = 20;

export interface RunningServer {
  port: number;
  server: ZkServer;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  await fs.mkdir(config.dataDir, { recursive: true });
  await fs.mkdir(config.dataLogDir, { recursive: true });
  const replica = await openReplica(config, log);
  const server = new ZkServer(config, replica, systemClock, log.child({ component: 'server' }));
  const port = await server.listen();
  log.info({ port, host: config.clientPortAddress, dataDir: config.dataDir, lastZxid: replica.lastZxid, ensemble: config.ensemble.length > 0 }, 'serving clients');
  let purgeTimer: NodeJS.Timeout | null = null;
  if (config.purgeIntervalHours > 0) {
    purgeTimer = setInterval(() => {
      replica.purge().catch((err: unknown) => log.error({ err }, 'autopurge failed'));
    }, config.purgeIntervalHours * 3600 * 1000);
    purgeTimer.unref();
  }
  return {
    port,
    server,
    close: async () => {
      if (purgeTimer !== null) clearInterval(purgeTimer);
      await server.close();
      log.info('stopped');
    },
  };
}

function openReplica(config: ServerConfig, log: Logger): Promise<Replica> {
  const common = {
    dataDir: config.dataDir,
    dataLogDir: config.dataLogDir,
    forceSync: config.forceSync,
    snapCount: config.snapCount,
    snapRetainCount: config.snapRetainCount,
    extendedTypesEnabled: config.extendedTypesEnabled,
    skipACL: config.skipACL,
    clock: systemClock,
    random: Math.random,
    log: log.child({ component: 'replica' }),
  };
  if (config.ensemble.length === 0) return SingleNodeReplica.open(common);
  return RaftReplica.open({
    ...common,
    serverId: config.serverId,
    members: config.ensemble.map((m) => ({ id: m.id, host: m.host, quorumPort: m.quorumPort })),
    configNodeText: ensembleConfigText(config.ensemble),
    tickMs: RAFT_TICK_MS,
    heartbeatTicks: RAFT_HEARTBEAT_TICKS,
    electionTicks: RAFT_ELECTION_TICKS,
    codec: { encode: encodeWriteBody, decode: decodeWriteBody },
  });
}
