// The server an integration test talks to: zooraft by default, real ZooKeeper 3.8 when
// ZOORAFT_TEST_TARGET=zookeeper. Every integration test must pass against both; that is how
// we know its expectations are ZooKeeper's and not our guesses.
//
// Tests describe what they need with TargetOptions; the translation to each server's
// configuration lives here and only here (zooraft: `--set key=value` zoo.cfg keys;
// ZooKeeper: zoo.cfg keys, which ZooKeeper turns into `zookeeper.<key>` system properties
// when it does not know them, plus -Dzookeeper.extendedTypesEnabled).
import fs from 'node:fs';
import { ZooraftProcess } from './zooraft-process.js';
import { ZooKeeperProcess } from '../../compat/zookeeper-process.js';

export type TargetKind = 'zooraft' | 'zookeeper';

export const targetKind: TargetKind = process.env.ZOORAFT_TEST_TARGET === 'zookeeper' ? 'zookeeper' : 'zooraft';

/** zoo.cfg keys zooraft is started with for the options below. */
export const ZOORAFT_KEYS = {
  extendedTypes: 'extendedTypesEnabled',
  superDigest: 'DigestAuthenticationProvider.superDigest',
  juteMaxBuffer: 'jute.maxbuffer',
} as const;

export interface TargetOptions {
  /** tickTime in ms; 200 unless given (session timeouts clamp to [2, 20] ticks). */
  tickTimeMs?: number;
  /** TTL nodes (zookeeper.extendedTypesEnabled). */
  extendedTypes?: boolean;
  /** "super:<base64 sha1>" (zookeeper.DigestAuthenticationProvider.superDigest). */
  superDigest?: string;
  /** Largest frame the server accepts (jute.maxbuffer); zooraft only. */
  juteMaxBuffer?: number;
  /** Further zoo.cfg keys, passed unchanged to either server. */
  settings?: Record<string, string>;
}

export interface Target {
  readonly kind: TargetKind;
  readonly host: string;
  readonly port: number;
  readonly connectString: string;
  readonly tickTimeMs: number;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** The server's log so far (zooraft: stdout/stderr lines; ZooKeeper: its log file). */
  log(): string;
}

/** A zooraft target can be killed and restarted on the same data folder and port. */
export interface ZooraftTarget extends Target {
  readonly kind: 'zooraft';
  readonly dataDir: string;
  /** Starts a fresh process on the same dataDir and port (the old one must be stopped). */
  restart(): Promise<ZooraftTarget>;
  /** Removes the data folder (after the last stop). */
  removeData(): Promise<void>;
}

export const DEFAULT_TICK_MS = 200;

export async function startTarget(opts: TargetOptions = {}): Promise<Target> {
  if (targetKind === 'zookeeper') return startZooKeeper(opts);
  const z = await startZooraft(opts);
  // A generic target owns its data folder: stopping it removes the folder too.
  return {
    ...z,
    async stop() {
      await z.stop();
      await z.removeData();
    },
    async kill() {
      await z.kill();
      await z.removeData();
    },
  };
}

/** For tests that only make sense for zooraft (restart, kill -9, its data files). */
export async function startZooraft(opts: TargetOptions = {}, dataDir?: string, port?: number): Promise<ZooraftTarget> {
  const tickTimeMs = opts.tickTimeMs ?? DEFAULT_TICK_MS;
  const settings: Record<string, string> = { ...(opts.settings ?? {}) };
  if (opts.extendedTypes === true) settings[ZOORAFT_KEYS.extendedTypes] = 'true';
  if (opts.superDigest !== undefined) settings[ZOORAFT_KEYS.superDigest] = opts.superDigest;
  if (opts.juteMaxBuffer !== undefined) settings[ZOORAFT_KEYS.juteMaxBuffer] = String(opts.juteMaxBuffer);
  const proc = await ZooraftProcess.start({
    tickTimeMs,
    settings,
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(port !== undefined ? { port } : {}),
  });
  const target: ZooraftTarget = {
    kind: 'zooraft',
    host: proc.host,
    port: proc.port,
    connectString: proc.connectString,
    tickTimeMs,
    dataDir: proc.dataDir,
    async stop() {
      await proc.stop();
    },
    kill: () => proc.kill(),
    log: () => proc.logLines.join('\n'),
    restart: () => startZooraft(opts, proc.dataDir, proc.port),
    removeData: () => proc.removeData(),
  };
  return target;
}

async function startZooKeeper(opts: TargetOptions): Promise<Target> {
  if (opts.juteMaxBuffer !== undefined) {
    throw new Error('juteMaxBuffer is a zooraft-only test option (ZooKeeper reads it from a JVM system property)');
  }
  const tickTimeMs = opts.tickTimeMs ?? DEFAULT_TICK_MS;
  const settings: Record<string, string> = { ...(opts.settings ?? {}) };
  // ZooKeeper's config parser turns an unknown zoo.cfg key K into the system property
  // zookeeper.K, which is where DigestAuthenticationProvider reads its superDigest.
  if (opts.superDigest !== undefined) settings['DigestAuthenticationProvider.superDigest'] = opts.superDigest;
  const proc = await ZooKeeperProcess.start({ tickTimeMs, settings, extendedTypes: opts.extendedTypes === true });
  return {
    kind: 'zookeeper',
    host: proc.host,
    port: proc.port,
    connectString: proc.connectString,
    tickTimeMs,
    stop: () => proc.stop(),
    kill: () => proc.kill(),
    log: () => {
      try {
        return fs.readFileSync(proc.logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/** Starts a target, runs fn, always stops the target. */
export async function withTarget<T>(opts: TargetOptions, fn: (target: Target) => Promise<T>): Promise<T> {
  const target = await startTarget(opts);
  try {
    return await fn(target);
  } finally {
    await target.stop();
  }
}
