// startServer: recover the replica from disk, then serve clients.
import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import { systemClock } from '../platform/clock.js';
import { SingleNodeReplica } from '../replica/single-node.js';
import { ZkServer } from './server.js';

export interface RunningServer {
  port: number;
  server: ZkServer;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  await fs.mkdir(config.dataDir, { recursive: true });
  await fs.mkdir(config.dataLogDir, { recursive: true });
  const replica = await SingleNodeReplica.open({
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
  });
  const server = new ZkServer(config, replica, systemClock, log.child({ component: 'server' }));
  const port = await server.listen();
  log.info({ port, host: config.clientPortAddress, dataDir: config.dataDir, lastZxid: replica.lastZxid }, 'serving clients');
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
