// Starts a REAL Apache ZooKeeper 3.8 standalone server (Debian's `zookeeper` package) on a
// free port with its own temp data folder, for differential and compatibility tests; or a
// real ZooKeeper ensemble (ZooKeeperEnsemble: N QuorumPeerMain JVMs, each with its own data
// folder, myid and free client/quorum/election ports).
// The JVM is run directly (ZooKeeperServerMain + a generated zoo.cfg), not through the
// init scripts; its logs go to <dataDir>/zookeeper.log. stop()/kill() end exactly the child
// processes spawned here and remove the temp folders.
//
// When ZooKeeper is not installed, start() throws: in CI (process.env.CI set) because a
// compatibility test must never silently skip, elsewhere with the command that installs it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface ZooKeeperOptions {
  /** zoo.cfg tickTime (ms); 2000 (ZooKeeper's default) unless given. */
  tickTimeMs?: number;
  /** Extra zoo.cfg keys (override the defaults written here). */
  settings?: Record<string, string>;
  /** Pass -Dzookeeper.extendedTypesEnabled=true (TTL nodes). */
  extendedTypes?: boolean;
  /** Bound on the wait for `ruok` -> `imok`. */
  startTimeoutMs?: number;
}

const JAVA_DIR = '/usr/share/java';
const ZK_JAR = path.join(JAVA_DIR, 'zookeeper.jar');
/** zookeeper.jar's manifest Class-Path names everything else except an slf4j binding. */
const LOG_JARS = ['slf4j-simple.jar'];
const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';
const QUORUM_MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
const INSTALL_HINT = 'install it with: apt-get install zookeeper default-jre-headless';
const START_ATTEMPTS_MAX = 4;

function javaBinary(): string | null {
  const home = process.env.JAVA_HOME;
  const candidates = [...(home !== undefined && home !== '' ? [path.join(home, 'bin', 'java')] : []), '/usr/bin/java'];
  for (const c of candidates) {
    if (fs.existsSync(c)) return c;
  }
  return null;
}

/** True when a JRE and the Debian ZooKeeper jars are present. */
export function zookeeperAvailable(): boolean {
  return javaBinary() !== null && fs.existsSync(ZK_JAR);
}

function requireZooKeeper(): string {
  const java = javaBinary();
  const missing: string[] = [];
  if (java === null) missing.push('java (JRE)');
  if (!fs.existsSync(ZK_JAR)) missing.push(ZK_JAR);
  if (java !== null && missing.length === 0) return java;
  const what = `real ZooKeeper is not available (missing: ${missing.join(', ')})`;
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error(`${what}; CI must install it, compatibility tests may not be skipped (${INSTALL_HINT})`);
  }
  throw new Error(`${what}; ${INSTALL_HINT}`);
}

/** A port that was free a moment ago (bind 0, read it, close). */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

/** Sends a four-letter word and returns everything the server writes before closing. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${word} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(word));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `quorum`: the ensemble keys (initLimit, server.N, ...), written before opts.settings. */
function zooCfg(dataDir: string, port: number, opts: ZooKeeperOptions, quorum: Record<string, string> = {}): string {
  const cfg: Record<string, string> = {
    tickTime: String(opts.tickTimeMs ?? 2000),
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    maxClientCnxns: '0',
    'autopurge.purgeInterval': '0',
    ...quorum,
    ...(opts.settings ?? {}),
  };
  return Object.entries(cfg)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

/** Children still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

interface JvmSpec {
  /** Working directory and -Dzookeeper.log.dir. */
  dir: string;
  logFile: string;
  cfgPath: string;
  mainClass: string;
  extendedTypes: boolean;
}

interface SpawnedJvm {
  child: ChildProcess;
  /** stdout and stderr (startup failures land there, not in the log file). */
  output: string[];
  exited: Promise<number | null>;
}

/** One ZooKeeper JVM; the flags suit tests (small heap, C1 only), not benchmarks. */
function spawnJvm(java: string, spec: JvmSpec): SpawnedJvm {
  const classPath = [ZK_JAR, ...LOG_JARS.map((j) => path.join(JAVA_DIR, j))].join(':');
  const args = [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Xshare:auto',
    '-Djava.net.preferIPv4Stack=true',
    '-Dzookeeper.admin.enableServer=false',
    `-Dzookeeper.log.dir=${spec.dir}`,
    `-Dorg.slf4j.simpleLogger.logFile=${spec.logFile}`,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=info',
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    ...(spec.extendedTypes ? ['-Dzookeeper.extendedTypesEnabled=true'] : []),
    '-cp',
    classPath,
    spec.mainClass,
    spec.cfgPath,
  ];
  const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: spec.dir });
  track(child);
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

function readTail(file: string, maxChars: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.length > maxChars ? text.slice(-maxChars) : text;
  } catch {
    return '';
  }
}

/**
 * Starts in a fresh temp folder; a lost race for a picked port (another process took it
 * between pickFreePort and bind) is the only failure worth another try, in a new folder.
 */
async function retryOnPortRace<T>(dirPrefix: string, what: string, startOnce: (dir: string) => Promise<T>): Promise<T> {
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < START_ATTEMPTS_MAX; attempt++) {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), dirPrefix));
    try {
      return await startOnce(dir);
    } catch (e) {
      lastError = e instanceof Error ? e : new Error(String(e));
      await fsp.rm(dir, { recursive: true, force: true });
      if (!lastError.message.includes('Address already in use')) throw lastError;
    }
  }
  throw lastError ?? new Error(`${what} did not start`);
}

export class ZooKeeperProcess {
  readonly host = '127.0.0.1' as const;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** <dataDir>/zookeeper.log: ZooKeeper's own log (slf4j-simple). */
  readonly logFile: string;
  private readonly exited: Promise<number | null>;
  private removed = false;

  private constructor(child: ChildProcess, port: number, dataDir: string, logFile: string, exited: Promise<number | null>) {
    this.child = child;
    this.port = port;
    this.dataDir = dataDir;
    this.logFile = logFile;
    this.exited = exited;
  }

  get connectString(): string {
    return `${this.host}:${this.port}`;
  }

  static async start(opts: ZooKeeperOptions = {}): Promise<ZooKeeperProcess> {
    const java = requireZooKeeper();
    return retryOnPortRace('zookeeper-test-', 'ZooKeeper', (dataDir) => ZooKeeperProcess.startOnce(java, dataDir, opts));
  }

  private static async startOnce(java: string, dataDir: string, opts: ZooKeeperOptions): Promise<ZooKeeperProcess> {
    const port = await pickFreePort();
    const cfgPath = path.join(dataDir, 'zoo.cfg');
    const logFile = path.join(dataDir, 'zookeeper.log');
    const dataSub = path.join(dataDir, 'data');
    await fsp.mkdir(dataSub);
    await fsp.writeFile(cfgPath, zooCfg(dataSub, port, opts));
    const { child, output, exited } = spawnJvm(java, { dir: dataDir, logFile, cfgPath, mainClass: MAIN_CLASS, extendedTypes: opts.extendedTypes === true });
    const proc = new ZooKeeperProcess(child, port, dataDir, logFile, exited);
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`ZooKeeper exited (${String(child.exitCode ?? child.signalCode)}) before serving:\n${output.join('')}\n${proc.readLog()}`);
      }
      // ruok says imok as soon as the port is open; srvr tells when requests are served.
      const answer = await fourLetterWord(proc.host, port, 'ruok', 1000).catch(() => '');
      if (answer === 'imok') {
        const srvr = await fourLetterWord(proc.host, port, 'srvr', 1000).catch(() => '');
        if (srvr.includes('Mode: ')) return proc;
      }
      if (Date.now() > deadline) {
        await proc.kill();
        throw new Error(`ZooKeeper did not answer ruok within ${opts.startTimeoutMs ?? 30000} ms:\n${output.join('')}\n${proc.readLog()}`);
      }
      await delay(100);
    }
  }

  /** The tail of ZooKeeper's log file (for failure messages). */
  readLog(maxChars = 8000): string {
    return readTail(this.logFile, maxChars);
  }

  /** SIGTERM, wait (SIGKILL after 10 s), remove the temp folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(timer);
    }
    await this.removeDir();
  }

  /** SIGKILL, wait, remove the temp folder. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    await this.removeDir();
  }

  private async removeDir(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await fsp.rm(this.dataDir, { recursive: true, force: true });
  }
}

export interface ZooKeeperEnsembleOptions extends ZooKeeperOptions {
  /** Number of voting members; 3 unless given. */
  size?: number;
}

export interface ZooKeeperMember {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  /** Holds zoo.cfg, data/myid and zookeeper.log. */
  readonly dir: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** stdout and stderr of the JVM. */
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

/** Ticks a follower may take to connect and sync, and to lag: ZooKeeper's sample values. */
const INIT_LIMIT_TICKS = 10;
const SYNC_LIMIT_TICKS = 5;

/** n distinct ports that were free a moment ago (two picks may return the same port). */
export async function pickFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await pickFreePort());
  return [...ports];
}

/**
 * A real ZooKeeper ensemble: every member runs QuorumPeerMain with the same server.N lines.
 * Ready when every member's srvr says leader or follower (exactly one leader).
 */
export class ZooKeeperEnsemble {
  readonly host = '127.0.0.1' as const;
  readonly members: readonly ZooKeeperMember[];
  /** Parent of every member's folder; removed by stop(). */
  readonly rootDir: string;
  private removed = false;

  private constructor(members: ZooKeeperMember[], rootDir: string) {
    this.members = members;
    this.rootDir = rootDir;
  }

  static async start(opts: ZooKeeperEnsembleOptions = {}): Promise<ZooKeeperEnsemble> {
    const java = requireZooKeeper();
    return retryOnPortRace('zookeeper-ensemble-', 'ZooKeeper ensemble', (rootDir) => ZooKeeperEnsemble.startOnce(java, rootDir, opts));
  }

  private static async startOnce(java: string, rootDir: string, opts: ZooKeeperEnsembleOptions): Promise<ZooKeeperEnsemble> {
    const size = opts.size ?? 3;
    const ports = await pickFreePorts(3 * size);
    const portOf = (id: number, k: number): number => ports[(id - 1) * 3 + k] as number;
    const quorum: Record<string, string> = { initLimit: String(INIT_LIMIT_TICKS), syncLimit: String(SYNC_LIMIT_TICKS) };
    for (let id = 1; id <= size; id++) quorum[`server.${id}`] = `127.0.0.1:${portOf(id, 1)}:${portOf(id, 2)}`;
    const members: ZooKeeperMember[] = [];
    for (let id = 1; id <= size; id++) {
      const dir = path.join(rootDir, `member-${id}`);
      const dataDir = path.join(dir, 'data');
      await fsp.mkdir(dataDir, { recursive: true });
      await fsp.writeFile(path.join(dataDir, 'myid'), `${id}\n`);
      const cfgPath = path.join(dir, 'zoo.cfg');
      await fsp.writeFile(cfgPath, zooCfg(dataDir, portOf(id, 0), opts, quorum));
      const logFile = path.join(dir, 'zookeeper.log');
      const jvm = spawnJvm(java, { dir, logFile, cfgPath, mainClass: QUORUM_MAIN_CLASS, extendedTypes: opts.extendedTypes === true });
      members.push({ id, clientPort: portOf(id, 0), quorumPort: portOf(id, 1), electionPort: portOf(id, 2), dir, logFile, ...jvm });
    }
    const ensemble = new ZooKeeperEnsemble(members, rootDir);
    const timeoutMs = opts.startTimeoutMs ?? 60000;
    try {
      await ensemble.waitForLeader(timeoutMs, true);
      // A member whose election port was taken still joins through its peers' connections,
      // then exits once its listener gives up (ExitCode 14, about a second later).
      const unbound = members.find((m) => readTail(m.logFile, Number.MAX_SAFE_INTEGER).includes('Address already in use'));
      // The message names the cause, which start() retries on with fresh ports.
      if (unbound !== undefined) throw new Error(`ZooKeeper member ${unbound.id} could not bind a port: Address already in use`);
    } catch (e) {
      await ensemble.killAll();
      throw e;
    }
    return ensemble;
  }

  member(id: number): ZooKeeperMember {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  connectString(ids: readonly number[] = this.members.map((m) => m.id)): string {
    return ids.map((id) => `${this.host}:${this.member(id).clientPort}`).join(',');
  }

  /** srvr's Mode line (leader, follower), or null while the member serves nobody. */
  async modeOf(id: number): Promise<string | null> {
    const text = await fourLetterWord(this.host, this.member(id).clientPort, 'srvr').catch(() => '');
    return /^Mode: (\w+)/m.exec(text)?.[1] ?? null;
  }

  /**
   * Waits until one member says leader and every other says follower; returns the leader's id.
   * `failOnExit`: a member that exits meanwhile is an error (with its output and log).
   */
  async waitForLeader(timeoutMs = 30000, failOnExit = false): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let modes: Array<string | null> = [];
    for (;;) {
      const dead = this.members.find((m) => m.child.exitCode !== null || m.child.signalCode !== null);
      if (failOnExit && dead !== undefined) {
        throw new Error(`ZooKeeper member ${dead.id} exited (${String(dead.child.exitCode ?? dead.child.signalCode)}) before the ensemble served:\n${dead.output.join('')}\n${this.readLog(dead.id)}`);
      }
      modes = await Promise.all(this.members.map((m) => this.modeOf(m.id)));
      const leaders = this.members.filter((_, i) => modes[i] === 'leader');
      if (leaders.length === 1 && modes.every((m) => m === 'leader' || m === 'follower')) return (leaders[0] as ZooKeeperMember).id;
      if (Date.now() > deadline) {
        const logs = this.members.map((m) => `--- member ${m.id}:\n${m.output.join('')}\n${this.readLog(m.id, 3000)}`).join('\n');
        throw new Error(`ZooKeeper ensemble had no single leader within ${timeoutMs} ms (modes ${JSON.stringify(modes)}):\n${logs}`);
      }
      await delay(200);
    }
  }

  /** The tail of one member's log file (for failure messages), without our srvr probes. */
  readLog(id: number, maxChars = 8000): string {
    const text = readTail(this.member(id).logFile, Number.MAX_SAFE_INTEGER)
      .split('\n')
      .filter((line) => !line.includes('Processing srvr command'))
      .join('\n');
    return text.length > maxChars ? text.slice(-maxChars) : text;
  }

  /** SIGTERM every member, wait (SIGKILL after 10 s), remove the folders. */
  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.child.exitCode !== null || m.child.signalCode !== null) return;
        m.child.kill('SIGTERM');
        const timer = setTimeout(() => m.child.kill('SIGKILL'), 10000);
        await m.exited;
        clearTimeout(timer);
      }),
    );
    await this.removeDir();
  }

  private async killAll(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.child.exitCode !== null || m.child.signalCode !== null) return;
        m.child.kill('SIGKILL');
        await m.exited;
      }),
    );
  }

  private async removeDir(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await fsp.rm(this.rootDir, { recursive: true, force: true });
  }
}
