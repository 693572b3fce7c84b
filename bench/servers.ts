// Starts the two servers for the benchmark, each fresh, with equivalent settings:
//  - ZooKeeper 3.8 from the Debian package, run as `java -cp zookeeper.jar ZooKeeperServerMain`
//    with DEFAULT JVM settings (no -Xmx, default GC, full JIT); forceSync on (its default).
//    (compat/zookeeper-process.ts caps the heap and the JIT for fast tests, so it is not used.)
//  - zooraft from dist/zooraft.cjs (the zooraft command) with forceSync on (its default).
//  - for the memory workload also a tuned ZooKeeper ('zookeeper-tuned'): the same, plus
//    -XX:+UseSerialGC -Xmx<just enough for the data> (found by run.ts) and
//    -XX:+ExitOnOutOfMemoryError (so a too-small heap ends the process instead of thrashing).
// Both: tickTime 2000, 4lw.commands.whitelist=*, maxClientCnxns=0, data under the same
// benchmark root folder (one filesystem), logs to a file at their default level (INFO).
// Start-up time is measured from spawn() to the first `ruok` → `imok`, the same for both.
// BenchEnsemble starts three members of one server on this machine (QuorumPeerMain or
// `zooraft start --config`) with the same zoo.cfg but for dataDir and clientPort, and a myid each.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { fourLetterWord, pickFreePort, pickFreePorts } from '../compat/zookeeper-process.js';
import { LeanSession } from './lean-client.js';
import { req } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench -> dist/zooraft.cjs, the command users run (npm run build makes it). */
const ZOORAFT_CLI = path.resolve(here, '../zooraft.cjs');
const JAVA_DIR = '/usr/share/java';
const ZK_JAR = path.join(JAVA_DIR, 'zookeeper.jar');
const ZK_CLASSPATH = [ZK_JAR, path.join(JAVA_DIR, 'slf4j-simple.jar')].join(':');
export const TICK_MS = 2000;
const ZK_STANDALONE_MAIN = 'org.apache.zookeeper.server.ZooKeeperServerMain';
const ZK_QUORUM_MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

export type ServerKind = 'zookeeper' | 'zooraft' | 'zookeeper-tuned';

/** JVM settings of the tuned ZooKeeper. */
export interface TunedJvm {
  xmxMb: number;
}

export interface StartTimes {
  /** spawn → first imok to ruok. */
  ruokMs: number;
  /** spawn → a new session's exists("/") succeeded. */
  firstRequestMs: number;
}

export class BenchServer {
  readonly kind: ServerKind;
  readonly dir: string;
  readonly port: number;
  readonly tuned: TunedJvm | undefined;
  child: ChildProcess;
  times: StartTimes;
  private exited: Promise<void>;

  private constructor(kind: ServerKind, dir: string, port: number, tuned: TunedJvm | undefined, child: ChildProcess, times: StartTimes, exited: Promise<void>) {
    this.kind = kind;
    this.dir = dir;
    this.port = port;
    this.tuned = tuned;
    this.child = child;
    this.times = times;
    this.exited = exited;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts a fresh server in `dir` (created here) on a free port. */
  static async start(kind: ServerKind, dir: string, tuned?: TunedJvm): Promise<BenchServer> {
    if (kind === 'zookeeper-tuned' && tuned === undefined) throw new Error('zookeeper-tuned needs an -Xmx');
    await fsp.mkdir(dir, { recursive: true });
    let last: Error | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await pickFreePort();
      try {
        const { child, times, exited } = await launch(kind, dir, port, tuned);
        return new BenchServer(kind, dir, port, tuned, child, times, exited);
      } catch (e) {
        last = e instanceof Error ? e : new Error(String(e));
        if (!/Address already in use|EADDRINUSE/.test(last.message)) throw last;
      }
    }
    throw last ?? new Error('server did not start');
  }

  /** kill -9, then start again on the same data and port; returns the new start times. */
  async crashAndRestart(): Promise<StartTimes> {
    this.child.kill('SIGKILL');
    await this.exited;
    const { child, times, exited } = await launch(this.kind, this.dir, this.port, this.tuned);
    this.child = child;
    this.times = times;
    this.exited = exited;
    return times;
  }

  async stop(): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(t);
    }
  }

  logTail(chars = 4000): string {
    try {
      const text = fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8');
      return text.slice(-chars);
    } catch {
      return '';
    }
  }

  /** True when the JVM ran out of heap (stdout/stderr go to server.log, ZooKeeper's own log to zookeeper.log). */
  outOfMemory(): boolean {
    for (const f of ['server.log', 'zookeeper.log']) {
      try {
        if (fs.readFileSync(path.join(this.dir, f), 'utf8').includes('OutOfMemoryError')) return true;
      } catch {
        // no such log
      }
    }
    return false;
  }
}

/** The `java` arguments that run ZooKeeper's `mainClass` on `cfgPath` with default JVM settings (the tuned flags if given), logs in `dir`. */
function zookeeperArgs(dir: string, cfgPath: string, mainClass: string, tuned: TunedJvm | undefined): string[] {
  const jvm = tuned !== undefined ? ['-XX:+UseSerialGC', `-Xmx${tuned.xmxMb}m`, '-XX:+ExitOnOutOfMemoryError'] : [];
  return [
    ...jvm,
    // GC pauses to a file (read by gcPauses); changes nothing else.
    `-Xlog:gc:file=${path.join(dir, 'gc.log')}`,
    `-Dorg.slf4j.simpleLogger.logFile=${path.join(dir, 'zookeeper.log')}`,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=info',
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    '-cp',
    ZK_CLASSPATH,
    mainClass,
    cfgPath,
  ];
}

/**
 * `node <the command's own node flags> dist/zooraft.cjs start <startArgs>`, in the environment its
 * #! line gives it: zooraft runs as its `#!/usr/bin/env -S -u NAME node <flags>` line runs it for
 * users, plus BENCH_ZOORAFT_NODE_ARGS / BENCH_ZOORAFT_ARGS.
 */
function zooraftLaunch(startArgs: string[]): { args: string[]; env: NodeJS.ProcessEnv } {
  // BENCH_ZOORAFT_NODE_ARGS: extra node flags for zooraft, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof";
  // BENCH_ZOORAFT_ARGS: extra `zooraft start` options, e.g. "--low-memory".
  const words = (name: string): string[] => (process.env[name] ?? '').split(' ').filter((a) => a !== '');
  const line = commandLine();
  const env = { ...process.env };
  for (const name of line.unsetEnv) delete env[name];
  return { args: [...line.nodeFlags, ...words('BENCH_ZOORAFT_NODE_ARGS'), ZOORAFT_CLI, 'start', ...startArgs, ...words('BENCH_ZOORAFT_ARGS')], env };
}

/** What the command's first line (`#!/usr/bin/env -S -u NAME ... node --flag ...`) removes from the environment and passes to node. */
export function commandLine(): { unsetEnv: string[]; nodeFlags: string[] } {
  const fd = fs.openSync(ZOORAFT_CLI, 'r');
  try {
    const head = Buffer.alloc(512);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const line = head.toString('utf8', 0, n).split('\n')[0] ?? '';
    const words = line.replace(/^#!/, '').trim().split(/\s+/);
    const at = words.indexOf('node');
    if (at < 0) throw new Error(`${ZOORAFT_CLI} does not start with a #! line that runs node: ${line}`);
    const unsetEnv: string[] = [];
    words.slice(0, at).forEach((w, i, before) => {
      const name = before[i + 1];
      if (w === '-u' && name !== undefined) unsetEnv.push(name);
    });
    return { unsetEnv, nodeFlags: words.slice(at + 1) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Spawns the server with stdout and stderr appended to <dir>/server.log. */
function spawnLogged(command: string, args: string[], dir: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const logFd = fs.openSync(path.join(dir, 'server.log'), 'a');
  try {
    return spawn(command, args, { stdio: ['ignore', logFd, logFd], cwd: dir, env });
  } finally {
    fs.closeSync(logFd);
  }
}

function writeCfg(cfgPath: string, cfg: Record<string, string>): void {
  fs.writeFileSync(cfgPath, Object.entries(cfg).map(([k, v]) => `${k}=${v}\n`).join(''));
}

/** How often a starting server is polled: the poll's own steps must stay small next to a start of ~70 ms. */
const START_POLL_MS = 2;

async function launch(kind: ServerKind, dir: string, port: number, tuned: TunedJvm | undefined): Promise<{ child: ChildProcess; times: StartTimes; exited: Promise<void> }> {
  let child: ChildProcess;
  const t0 = performance.now();
  if (kind === 'zookeeper' || kind === 'zookeeper-tuned') {
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const cfgPath = path.join(dir, 'zoo.cfg');
    writeCfg(cfgPath, {
      tickTime: String(TICK_MS),
      dataDir,
      clientPort: String(port),
      clientPortAddress: '127.0.0.1',
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      maxClientCnxns: '0',
      forceSync: 'yes',
    });
    child = spawnLogged('java', zookeeperArgs(dir, cfgPath, ZK_STANDALONE_MAIN, kind === 'zookeeper-tuned' ? tuned : undefined), dir);
  } else {
    const args = [
      '--port', String(port), '--host', '127.0.0.1', '--data-dir', path.join(dir, 'data'),
      '--tick-time', String(TICK_MS),
      '--set', '4lw.commands.whitelist=*', '--set', 'maxClientCnxns=0', '--set', 'forceSync=yes',
    ];
    const launch = zooraftLaunch(args);
    child = spawnLogged(process.execPath, launch.args, dir, launch.env);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = t0 + 60000;
  let ruokMs = -1;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${kind} exited (${String(child.exitCode ?? child.signalCode)}) before serving:\n${readTail(dir)}`);
    }
    const answer = await fourLetterWord('127.0.0.1', port, 'ruok', 500).catch(() => '');
    if (answer === 'imok') {
      ruokMs = performance.now() - t0;
      break;
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not answer ruok within 60 s:\n${readTail(dir)}`);
    }
    await new Promise((r) => setTimeout(r, START_POLL_MS));
  }
  // ZooKeeper answers ruok as soon as its port is open; a served request says it is really up.
  let firstRequestMs = -1;
  for (;;) {
    try {
      const s = await LeanSession.connect('127.0.0.1', port, 30000, 2000);
      const r = await s.call(req.exists('/'));
      s.destroy();
      if (r.err === 0) {
        firstRequestMs = performance.now() - t0;
        break;
      }
    } catch {
      // not yet
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} answered ruok but served no request within 60 s:\n${readTail(dir)}`);
    }
    await new Promise((r) => setTimeout(r, START_POLL_MS));
  }
  return { child, times: { ruokMs, firstRequestMs }, exited };
}

function readTail(dir: string): string {
  for (const f of ['server.log', 'zookeeper.log']) {
    try {
      return fs.readFileSync(path.join(dir, f), 'utf8').slice(-4000);
    } catch {
      // next
    }
  }
  return '';
}

// ---- 3-member ensemble ------------------------------------------------------------------------

/** The servers that run as an ensemble (the tuned JVM is a memory-workload variant only). */
export type EnsembleKind = 'zookeeper' | 'zooraft';
export const ENSEMBLE_SIZE = 3;
/** Bound on spawn → every member serving; ZooKeeper's election and three JVMs on 2 cores take a few seconds. */
const ENSEMBLE_READY_MS = 60000;

interface MemberPorts {
  client: number;
  quorum: number;
  election: number;
}

export interface EnsembleMember {
  /** myid, 1..ENSEMBLE_SIZE. */
  id: number;
  dir: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
  /** The member's own log: ZooKeeper's slf4j file, or zooraft's pino output. */
  logFile: string;
}

function memberAlive(m: EnsembleMember): boolean {
  return m.child.exitCode === null && m.child.signalCode === null;
}

function memberTail(m: EnsembleMember, chars: number): string {
  try {
    return fs.readFileSync(m.logFile, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}


/**
 * The zoo.cfg of one member: the same for every member but dataDir and clientPort, the same for
 * both servers. zooraft sends all Raft traffic to the first port of server.N and ignores the second.
 */
function ensembleCfg(dataDir: string, clientPort: number, all: MemberPorts[]): Record<string, string> {
  const cfg: Record<string, string> = {
    tickTime: String(TICK_MS),
    initLimit: '10',
    syncLimit: '5',
    dataDir,
    clientPort: String(clientPort),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    maxClientCnxns: '0',
    // Three admin servers on one machine would all want port 8080.
    'admin.enableServer': 'false',
    forceSync: 'yes',
  };
  all.forEach((p, i) => {
    cfg[`server.${i + 1}`] = `127.0.0.1:${p.quorum}:${p.election}`;
  });
  return cfg;
}

/** True when a new session on the port gets exists("/") answered within 2 s (closed again). */
async function servesRequests(port: number): Promise<boolean> {
  let s: LeanSession | null = null;
  try {
    s = await LeanSession.connect('127.0.0.1', port, 30000, 2000);
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 2000).unref());
    const r = await Promise.race([s.call(req.exists('/')), timeout]);
    if (r === null || r.err !== 0) return false;
    // closeSession rather than a dropped socket: an orphan session would expire mid-workload.
    await s.close(2000);
    return true;
  } catch {
    return false;
  } finally {
    s?.destroy();
  }
}

/**
 * Three members of one kind on this machine, each with its own data folder and ports, started
 * together. Ready when every member has served a new session's exists("/"): a ZooKeeper (or
 * zooraft) member without a leader refuses sessions, so that means a working quorum.
 */
export class BenchEnsemble {
  readonly kind: EnsembleKind;
  readonly dir: string;
  readonly members: EnsembleMember[];
  /** Spawn of the members → every member served a request. */
  readonly readyMs: number;

  private constructor(kind: EnsembleKind, dir: string, members: EnsembleMember[], readyMs: number) {
    this.kind = kind;
    this.dir = dir;
    this.members = members;
    this.readyMs = readyMs;
  }

  get alive(): boolean {
    return this.members.every(memberAlive);
  }

  get pids(): number[] {
    return this.members.map((m) => m.child.pid ?? -1);
  }

  get ports(): number[] {
    return this.members.map((m) => m.port);
  }

  /** Starts a fresh ensemble in `dir` (created here); retries on a lost race for a port. */
  static async start(kind: EnsembleKind, dir: string): Promise<BenchEnsemble> {
    let last: Error | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const attemptDir = path.join(dir, `try-${attempt}`);
      const members: EnsembleMember[] = [];
      try {
        const ports = await pickFreePorts(3 * ENSEMBLE_SIZE);
        const all: MemberPorts[] = Array.from({ length: ENSEMBLE_SIZE }, (_, i) => ({
          client: ports[3 * i] as number,
          quorum: ports[3 * i + 1] as number,
          election: ports[3 * i + 2] as number,
        }));
        const t0 = performance.now();
        all.forEach((p, i) => members.push(spawnMember(kind, attemptDir, i + 1, p, all)));
        const deadline = t0 + ENSEMBLE_READY_MS;
        await Promise.all(members.map((m) => waitServing(kind, m, deadline)));
        return new BenchEnsemble(kind, attemptDir, members, performance.now() - t0);
      } catch (e) {
        last = e instanceof Error ? e : new Error(String(e));
        const portTaken = members.some((m) => /Address already in use|EADDRINUSE/.test(memberTail(m, 100000)));
        await stopMembers(members, 0);
        if (!portTaken) throw last;
      }
    }
    throw last ?? new Error(`${kind} ensemble did not start`);
  }

  /** srvr's "Mode:" of each member ('leader', 'follower', or '?' when it does not say). */
  async modes(): Promise<string[]> {
    return Promise.all(
      this.members.map(async (m) => {
        const text = await fourLetterWord('127.0.0.1', m.port, 'srvr', 2000).catch(() => '');
        return /^Mode: (\w+)/m.exec(text)?.[1] ?? '?';
      }),
    );
  }

  /**
   * The myid of the leader, once srvr shows one leader and followers for the rest (polled for
   * up to `timeoutMs`). Throws otherwise, e.g. three members each running standalone.
   */
  async leaderId(timeoutMs = 10000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const modes = await this.modes();
      const leaders = modes.filter((m) => m === 'leader').length;
      const followers = modes.filter((m) => m === 'follower').length;
      if (leaders === 1 && followers === ENSEMBLE_SIZE - 1) return (this.members[modes.indexOf('leader')] as EnsembleMember).id;
      if (performance.now() > deadline) {
        const seen = modes.map((m, i) => `member ${(this.members[i] as EnsembleMember).id} ${m}`).join(', ');
        throw new Error(`${this.kind} ensemble has no single leader with ${ENSEMBLE_SIZE - 1} followers after ${timeoutMs / 1000} s (srvr Mode: ${seen})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM every member (SIGKILL after 10 s) and wait until all three have exited. */
  async stop(): Promise<void> {
    await stopMembers(this.members, 10000);
  }

  /** The end of every member's log, each under a line naming the file. */
  logTail(charsPerMember = 1500): string {
    return this.members.map((m) => `--- member ${m.id}: ${m.logFile} ---\n${memberTail(m, charsPerMember)}`).join('\n');
  }
}

function spawnMember(kind: EnsembleKind, root: string, id: number, own: MemberPorts, all: MemberPorts[]): EnsembleMember {
  const dir = path.join(root, `member-${id}`);
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  // Both servers read the member's id from <dataDir>/myid.
  fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
  const cfgPath = path.join(dir, 'zoo.cfg');
  writeCfg(cfgPath, ensembleCfg(dataDir, own.client, all));
  let child: ChildProcess;
  if (kind === 'zookeeper') {
    child = spawnLogged('java', zookeeperArgs(dir, cfgPath, ZK_QUORUM_MAIN, undefined), dir);
  } else {
    const launch = zooraftLaunch(['--config', cfgPath]);
    child = spawnLogged(process.execPath, launch.args, dir, launch.env);
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logFile = path.join(dir, kind === 'zookeeper' ? 'zookeeper.log' : 'server.log');
  return { id, dir, port: own.client, child, exited, logFile };
}

async function waitServing(kind: EnsembleKind, m: EnsembleMember, deadline: number): Promise<void> {
  for (;;) {
    if (!memberAlive(m)) {
      throw new Error(`${kind} ensemble member ${m.id} exited (${String(m.child.exitCode ?? m.child.signalCode)}) before serving; its log ${m.logFile}:\n${memberTail(m, 3000)}`);
    }
    if (await servesRequests(m.port)) return;
    if (performance.now() > deadline) {
      throw new Error(
        `${kind} ensemble member ${m.id} (client port ${m.port}) served no request within ${ENSEMBLE_READY_MS / 1000} s; its log ${m.logFile}:\n${memberTail(m, 3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM each live member, SIGKILL after `graceMs` (0: at once), and wait for every exit. */
async function stopMembers(members: EnsembleMember[], graceMs: number): Promise<void> {
  await Promise.all(
    members.map(async (m) => {
      if (!memberAlive(m)) return;
      m.child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
      const t = setTimeout(() => m.child.kill('SIGKILL'), graceMs);
      await m.exited;
      clearTimeout(t);
    }),
  );
}

/** The JVM's GC pauses so far, from its -Xlog:gc file ("... GC(7) Pause Full (Allocation Failure) 400M->390M(500M) 812.345ms"). */
export interface GcPauses {
  pauses: number;
  full: number;
  totalMs: number;
  fullMs: number;
  maxMs: number;
}
export function gcPauses(dir: string): GcPauses | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'gc.log'), 'utf8');
  } catch {
    return null;
  }
  const out: GcPauses = { pauses: 0, full: 0, totalMs: 0, fullMs: 0, maxMs: 0 };
  for (const m of text.matchAll(/ Pause (\w+).* ([\d.]+)ms$/gm)) {
    const msv = Number(m[2]);
    out.pauses++;
    out.totalMs += msv;
    out.maxMs = Math.max(out.maxMs, msv);
    if (m[1] === 'Full') {
      out.full++;
      out.fullMs += msv;
    }
  }
  return out;
}

// ---- JDK tools -----------------------------------------------------------------------------

/** True when `jcmd` runs here (a JDK; CI may have only a JRE). BENCH_NO_JCMD=1 pretends it does not. */
export function haveJcmd(): boolean {
  if (process.env['BENCH_NO_JCMD'] === '1') return false;
  const r = spawnSync('jcmd', ['-h'], { encoding: 'utf8', timeout: 30000 });
  return r.error === undefined && r.status === 0;
}

/**
 * The JVM's heap in use right after a full GC (`jcmd <pid> GC.run`, then `GC.heap_info`): the
 * live data, what an -Xmx must at least hold. NaN if jcmd fails.
 */
export function liveHeapBytes(pid: number): number {
  const gc = spawnSync('jcmd', [String(pid), 'GC.run'], { encoding: 'utf8', timeout: 120000 });
  if (gc.error !== undefined || gc.status !== 0) return Number.NaN;
  const info = spawnSync('jcmd', [String(pid), 'GC.heap_info'], { encoding: 'utf8', timeout: 60000 });
  if (info.error !== undefined || info.status !== 0) return Number.NaN;
  // G1: " garbage-first heap   total 262144K, used 12345K [...]"; Serial/Parallel: one line per generation.
  let used = 0;
  let found = false;
  for (const line of info.stdout.split('\n')) {
    if (/Metaspace|class space/.test(line)) continue;
    const m = /\btotal \d+K, used (\d+)K/.exec(line);
    if (m === null) continue;
    used += Number(m[1]) * 1024;
    found = true;
    if (/garbage-first heap/.test(line)) break;
  }
  return found ? used : Number.NaN;
}

// ---- /proc ---------------------------------------------------------------------------------

const CLK_TCK = 100;

/** utime + stime of the whole process (all threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm)": state is field 3; utime is field 14, stime 15 → rest[11], rest[12]
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / CLK_TCK;
}

/** VmRSS and VmHWM (peak RSS) in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ---- disk ----------------------------------------------------------------------------------

export interface FsyncProbe {
  dir: string;
  iterations: number;
  p10Ms: number;
  p50Ms: number;
  p99Ms: number;
  minMs: number;
}

/**
 * The cheapest honest durable write on this filesystem: overwrite 1 KiB inside a preallocated
 * file (no size change, so no metadata to commit) and fdatasync, `iterations` times, in a temp
 * file in `dir` (where both servers keep their data). ZooKeeper's log is preallocated and uses
 * force(false) = fdatasync, so a real durable write cannot be faster than this.
 */
export function probeFsync(dir: string, iterations = 200): FsyncProbe {
  const file = path.join(dir, `fsync-probe-${process.pid}.bin`);
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(1024, 0x7a);
  const times: number[] = [];
  try {
    fs.writeSync(fd, Buffer.alloc(iterations * block.length));
    fs.fsyncSync(fd);
    for (let i = 0; i < iterations; i++) {
      const t = performance.now();
      fs.writeSync(fd, block, 0, block.length, i * block.length);
      fs.fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? Number.NaN;
  return { dir, iterations, p10Ms: q(0.1), p50Ms: q(0.5), p99Ms: q(0.99), minMs: times[0] ?? Number.NaN };
}
