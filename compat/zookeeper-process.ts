// Starts a REAL Apache ZooKeeper 3.8 standalone server (Debian's `zookeeper` package) on a
// free port with its own temp data folder, for differential and compatibility tests.
// The JVM is run directly (ZooKeeperServerMain + a generated zoo.cfg), not through the
// init scripts; its logs go to <dataDir>/zookeeper.log. stop()/kill() end exactly the child
// process spawned here and remove the temp folder.
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

function zooCfg(dataDir: string, port: number, opts: ZooKeeperOptions): string {
  const cfg: Record<string, string> = {
    tickTime: String(opts.tickTimeMs ?? 2000),
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    maxClientCnxns: '0',
    'autopurge.purgeInterval': '0',
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
    let lastError: Error | null = null;
    for (let attempt = 0; attempt < START_ATTEMPTS_MAX; attempt++) {
      const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'zookeeper-test-'));
      try {
        return await ZooKeeperProcess.startOnce(java, dataDir, opts);
      } catch (e) {
        lastError = e instanceof Error ? e : new Error(String(e));
        await fsp.rm(dataDir, { recursive: true, force: true });
        // Only a lost race for the port is worth another try.
        if (!lastError.message.includes('Address already in use')) throw lastError;
      }
    }
    throw lastError ?? new Error('ZooKeeper did not start');
  }

  private static async startOnce(java: string, dataDir: string, opts: ZooKeeperOptions): Promise<ZooKeeperProcess> {
    const port = await pickFreePort();
    const cfgPath = path.join(dataDir, 'zoo.cfg');
    const logFile = path.join(dataDir, 'zookeeper.log');
    const dataSub = path.join(dataDir, 'data');
    await fsp.mkdir(dataSub);
    await fsp.writeFile(cfgPath, zooCfg(dataSub, port, opts));
    const classPath = [ZK_JAR, ...LOG_JARS.map((j) => path.join(JAVA_DIR, j))].join(':');
    const args = [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Xshare:auto',
      '-Djava.net.preferIPv4Stack=true',
      '-Dzookeeper.admin.enableServer=false',
      `-Dzookeeper.log.dir=${dataDir}`,
      `-Dorg.slf4j.simpleLogger.logFile=${logFile}`,
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=info',
      '-Dorg.slf4j.simpleLogger.showDateTime=true',
      ...(opts.extendedTypes === true ? ['-Dzookeeper.extendedTypesEnabled=true'] : []),
      '-cp',
      classPath,
      MAIN_CLASS,
      cfgPath,
    ];
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir });
    track(child);
    const output: string[] = [];
    child.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
    try {
      const text = fs.readFileSync(this.logFile, 'utf8');
      return text.length > maxChars ? text.slice(-maxChars) : text;
    } catch {
      return '';
    }
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
