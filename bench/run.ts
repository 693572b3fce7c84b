// zooraft vs real ZooKeeper 3.8: `node dist/bench/run.js [--quick] [--workloads a,b] [--pairs N]`.
// For every workload, pairs of fresh servers run alternately (ZooKeeper, zooraft, ZooKeeper,
// zooraft, ...); the report gives per-server medians over the pairs and the median of the
// per-pair zooraft/ZooKeeper ratios. See bench/README.md for what each number means.
// The ensemble workloads (ens*) run last, on one fresh 3-member ensemble per server and pair.
// Exit status: 1 if any request failed, a server did not start or a load worker failed;
// never because of timing.
import { fork, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Histogram } from './hist.js';
import { LeanSession, errorName } from './lean-client.js';
import type { FromWorker, ToWorker, WorkerConfig, WorkerResult } from './protocol.js';
import { renderReport, renderSvg } from './report.js';
import type { Measurement, Report, RunRecord, TunedReport } from './report.js';
import { BenchEnsemble, BenchServer, cpuSeconds, gcPauses, haveJcmd, liveHeapBytes, memory, probeFsync } from './servers.js';
import type { EnsembleKind, EnsembleMember, ServerKind, TunedJvm } from './servers.js';
import { ENSEMBLE_WORKLOADS, WORKLOADS, fillParentPath, fillParents, fillUnits, globalSetup, req, VALUE_100, VALUE_1K, workloadInfo } from './workloads.js';
import type { FillPlan } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.resolve(here, '../../bench/results');
const WORKER_JS = path.join(here, 'load-worker.js');

export interface Options {
  quick: boolean;
  pairs: number;
  workloads: string[];
  workers: number;
  sessions: number;
  depth: number;
  churners: number;
  warmupMs: number;
  durationMs: number;
  singleWarmupMs: number;
  singleMs: number;
  memZnodes: number;
  /** Creates per multi when filling the memory/recovery tree. */
  fillBatch: number;
  /** Multis in flight per session while filling (opts.sessions sessions over opts.workers workers). */
  fillDepth: number;
  /** The tuned ZooKeeper's first -Xmx (MiB) instead of the measured one; NaN = measure. */
  tunedXmxMb: number;
  fanSessions: number;
  fanRounds: number;
  /** The ensemble workloads' windows: shorter, as six ensembles run every one of them in full mode. */
  ensWarmupMs: number;
  ensDurationMs: number;
  ensSingleWarmupMs: number;
  ensSingleMs: number;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    return eq?.slice(name.length + 3);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'usage: node dist/bench/run.js [--quick] [--workloads a,b,c] [--pairs N] [--znodes N] [--workers N] [--sessions N] [--depth N]\n' +
        '       [--churners N] [--fill-batch N] [--fill-depth N] [--tuned-xmx N]\n' +
        '  --znodes N      znodes of 100 B for the memory and recovery workloads (default 1,000,000; quick 10,000)\n' +
        '  --fill-batch N  creates per multi when filling them (default 100); --fill-depth N multis in flight per session (default 4)\n' +
        '  --tuned-xmx N   first -Xmx (MiB) of the tuned-JVM ZooKeeper (memory workload) instead of the measured one\n' +
        `workloads: ${WORKLOADS.map((w) => w.name).join(', ')}\n` +
        `  --workloads ensemble  = ${ENSEMBLE_WORKLOADS.join(',')} (3-member ensembles only; may be combined with others)\n`,
    );
    process.exit(0);
  }
  const quick = argv.includes('--quick');
  const num = (name: string, dflt: number): number => {
    const v = get(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive whole number, got ${v}`);
    return n;
  };
  const wl = get('workloads');
  const named = wl === undefined ? WORKLOADS.map((w) => w.name) : wl.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const workloads = [...new Set(named.flatMap((w) => (w === 'ensemble' ? ENSEMBLE_WORKLOADS : [w])))];
  for (const w of workloads) workloadInfo(w);
  return {
    quick,
    pairs: num('pairs', quick ? 1 : 3),
    workloads,
    workers: num('workers', 2),
    sessions: num('sessions', 16),
    depth: num('depth', 32),
    churners: num('churners', 8),
    warmupMs: quick ? 300 : 750,
    // Full-mode windows trimmed from 4 s and 1 s to make room for the ensembles in 15 minutes
    // (3.5 s / 0.8 s gave a full run of 14 min 59 s at 06:57 UTC: too close).
    durationMs: quick ? 1000 : 3000,
    singleWarmupMs: quick ? 200 : 400,
    singleMs: quick ? 500 : 600,
    memZnodes: num('znodes', quick ? 10000 : 1000000),
    fillBatch: num('fill-batch', 100),
    fillDepth: num('fill-depth', 4),
    tunedXmxMb: get('tuned-xmx') === undefined ? Number.NaN : num('tuned-xmx', 1),
    fanSessions: quick ? 1000 : 10000,
    fanRounds: 3,
    ensWarmupMs: quick ? 200 : 500,
    ensDurationMs: quick ? 500 : 1500,
    ensSingleWarmupMs: quick ? 100 : 200,
    ensSingleMs: quick ? 300 : 500,
  };
}

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---- load workers ------------------------------------------------------------------------------

class Worker {
  readonly child: ChildProcess;
  private readonly queue: FromWorker[] = [];
  private waiters: Array<() => void> = [];
  private exitError: Error | null = null;

  constructor() {
    this.child = fork(WORKER_JS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: unknown) => {
      this.queue.push(m as FromWorker);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.on('exit', (code, sig) => {
      this.exitError = new Error(`load worker exited (${String(code ?? sig)})`);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(m: ToWorker): void {
    this.child.send(m);
  }

  /** The next message of the given type (others of other types stay queued). */
  async next<T extends FromWorker['type']>(type: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = this.queue.find((m) => m.type === 'failed');
      if (failed !== undefined && failed.type === 'failed') throw new Error(`load worker failed: ${failed.error}`);
      const i = this.queue.findIndex((m) => m.type === type);
      if (i >= 0) return this.queue.splice(i, 1)[0] as Extract<FromWorker, { type: T }>;
      if (this.exitError !== null) throw this.exitError;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`load worker: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async end(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (this.child.connected) this.child.disconnect();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

interface PhaseResult {
  ops: number;
  seconds: number;
  /** Writes made after the window to release replies still awaited (ensembles only; see awaitNudging). */
  nudges: number;
  hist: Histogram;
  errors: Map<number, number>;
  protocolErrors: string[];
  serverCpuSec: number;
  loadCpuSec: number;
}

function mergeResults(results: WorkerResult[]): Omit<PhaseResult, 'seconds' | 'serverCpuSec' | 'nudges'> {
  const hist = new Histogram();
  const errors = new Map<number, number>();
  let ops = 0;
  let loadCpuSec = 0;
  const protocolErrors: string[] = [];
  for (const r of results) {
    hist.merge(Histogram.fromSparse(r.hist));
    ops += r.ops;
    for (const [code, n] of r.errors) errors.set(code, (errors.get(code) ?? 0) + n);
    protocolErrors.push(...r.protocolErrors);
    loadCpuSec += (r.cpuUserUs + r.cpuSystemUs) / 1e6;
  }
  return { ops, hist, errors, protocolErrors, loadCpuSec };
}

/**
 * Where a phase's load goes: one server, or the members of an ensemble. Session j of the phase
 * (counted over all workers) connects to ports[(first + j) % ports.length]; server CPU is the
 * sum over pids.
 */
interface LoadTarget {
  ports: number[];
  pids: number[];
  first: number;
  /** Ensembles: one write through another session, made when replies are late (awaitNudging). */
  nudge?: () => Promise<void>;
}

/** How long after the window the workers may take to collect their last replies before a nudge. */
const NUDGE_AFTER_MS = 1000;

/**
 * Waits for `done`; if it has not settled by `startAt` (epoch ms), calls `nudge` once a second
 * until it does. Why: a ZooKeeper 3.8 follower was seen holding back the reply to a committed
 * write until the next commit arrived; with one session writing one request at a time (the
 * single-request phase) no next commit comes, and the reply waited 30 s for the session to
 * expire. A write from another session is such a next commit. Replies after the window are not
 * measured either way; the count goes into the report.
 */
async function awaitNudging<T>(done: Promise<T>, startAt: number, nudge: (() => Promise<void>) | undefined): Promise<{ value: T; nudges: number }> {
  if (nudge === undefined) return { value: await done, nudges: 0 };
  let nudges = 0;
  let busy = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    timer = setTimeout(tick, 1000);
    if (busy) return;
    busy = true;
    nudges++;
    nudge()
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  };
  timer = setTimeout(tick, Math.max(0, startAt - epochNow()));
  try {
    const value = await done;
    return { value, nudges };
  } finally {
    clearTimeout(timer);
  }
}

function serverTarget(server: BenchServer): LoadTarget {
  return { ports: [server.port], pids: [server.pid], first: 0 };
}

/** CPU seconds of all the target's processes; NaN if one is gone (a died server is reported elsewhere). */
function targetCpuSeconds(t: LoadTarget): number {
  try {
    return t.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  } catch {
    return Number.NaN;
  }
}

async function startWorkers(target: LoadTarget, workload: string, workers: number, sessions: number, depth: number, phase: string, fill?: FillPlan): Promise<Worker[]> {
  const ws = Array.from({ length: workers }, () => new Worker());
  try {
    let sessionBase = target.first;
    ws.forEach((w, i) => {
      const per = Math.floor(sessions / workers) + (i < sessions % workers ? 1 : 0);
      const cfg: WorkerConfig = { host: '127.0.0.1', port: target.ports[0] as number, workload, workerIndex: i, phase, sessions: per, depth };
      if (target.ports.length > 1) {
        cfg.ports = target.ports;
        cfg.sessionBase = sessionBase;
      }
      sessionBase += per;
      if (fill !== undefined) cfg.fill = fill;
      w.send({ type: 'init', cfg });
    });
    await Promise.all(ws.map((w) => w.next('ready', 120000)));
  } catch (e) {
    await Promise.all(ws.map((w) => w.end()));
    throw e;
  }
  return ws;
}

/** A closed-loop phase: warm-up, then the measuring window; server CPU read at both edges. */
async function timedPhase(target: LoadTarget, workload: string, workers: number, sessions: number, depth: number, warmupMs: number, durationMs: number): Promise<PhaseResult> {
  const ws = await startWorkers(target, workload, workers, sessions, depth, workers === 1 && sessions === 1 ? 'one' : 'sat');
  try {
    const from = epochNow() + warmupMs + 20;
    const to = from + durationMs;
    let cpuFrom = Number.NaN;
    let cpuTo = Number.NaN;
    const tFrom = setTimeout(() => {
      cpuFrom = targetCpuSeconds(target);
    }, from - epochNow());
    const tTo = setTimeout(() => {
      cpuTo = targetCpuSeconds(target);
    }, to - epochNow());
    for (const w of ws) w.send({ type: 'go', measureFrom: from, measureTo: to });
    const done = Promise.all(ws.map((w) => w.next('result', warmupMs + durationMs + 60000)));
    const { value: results, nudges } = await awaitNudging(done, to + NUDGE_AFTER_MS, target.nudge);
    clearTimeout(tFrom);
    clearTimeout(tTo);
    const merged = mergeResults(results.map((r) => r.result));
    return { ...merged, seconds: durationMs / 1000, serverCpuSec: cpuTo - cpuFrom, nudges };
  } finally {
    await Promise.all(ws.map((w) => w.end()));
  }
}

/** Thrown when a fill does not finish in time (a JVM thrashing in GC near its -Xmx). */
class FillTimeout extends Error {}

/** The fill units 0 .. count − 1 (memory/recovery fill), measured from "go" to the last reply. */
async function countPhase(server: BenchServer, workload: string, workers: number, sessions: number, depth: number, count: number, fill: FillPlan, timeoutMs: number): Promise<PhaseResult> {
  const ws = await startWorkers(serverTarget(server), workload, workers, sessions, depth, 'fill', fill);
  try {
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    let first = 0;
    ws.forEach((w, i) => {
      const per = Math.floor(count / workers) + (i < count % workers ? 1 : 0);
      w.send({ type: 'go', measureFrom: 0, measureTo: 0, count: per, first });
      first += per;
    });
    const results = await Promise.all(ws.map((w) => w.next('result', Math.round(timeoutMs)))).catch((e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      throw /within [\d.]+ ms/.test(msg) ? new FillTimeout(`fill not done within ${Math.round(timeoutMs / 1000)} s`) : e;
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(server.pid);
    return { ...mergeResults(results.map((r) => r.result)), seconds, serverCpuSec: cpu1 - cpu0, nudges: 0 };
  } finally {
    await Promise.all(ws.map((w) => w.end()));
  }
}

// ---- one run: a fresh server, one workload ------------------------------------------------------

function measurementOf(p: PhaseResult): Measurement {
  return {
    opsPerSec: p.ops / p.seconds,
    p50Us: p.hist.quantile(0.5),
    p99Us: p.hist.quantile(0.99),
    p999Us: p.hist.quantile(0.999),
    cpuUsPerOp: p.ops > 0 ? (p.serverCpuSec * 1e6) / p.ops : Number.NaN,
    loadCpuPct: (p.loadCpuSec / p.seconds) * 100,
    ops: p.ops,
  };
}

function addErrors(into: Record<string, number>, p: PhaseResult, notes: string[]): void {
  for (const [code, n] of p.errors) into[errorName(code)] = (into[errorName(code)] ?? 0) + n;
  for (const e of p.protocolErrors) if (notes.length < 20) notes.push(e);
}

async function withSession<T>(server: BenchServer | number, f: (s: LeanSession) => Promise<T>): Promise<T> {
  const s = await LeanSession.connect('127.0.0.1', typeof server === 'number' ? server : server.port);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/** Per-run knobs beyond the options: the tuned JVM and the fill's time limit (tuned ZooKeeper). */
interface RunExtras {
  tuned?: TunedJvm;
  fillTimeoutMs?: number;
  /** Read the JVM's live heap after the fill (jcmd GC.run + GC.heap_info). */
  measureLiveHeap?: boolean;
  /** A memory run goes on as this recovery run (kill -9 after the memory readings). */
  recovery?: RunRecord | undefined;
}

function fillPlan(opts: Options): FillPlan {
  return { znodes: opts.memZnodes, batch: opts.fillBatch };
}

/** Sum of numChildren of the paths (exists, pipelined). */
async function childCount(s: LeanSession, paths: string[]): Promise<number> {
  const counts = await Promise.all(
    paths.map(
      (p) =>
        new Promise<number>((resolve) => {
          const ok = s.send(req.exists(p), (err, body) => resolve(err === 0 && body.length >= 60 ? body.readInt32BE(56) : Number.NaN));
          if (!ok) resolve(Number.NaN);
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * The recovery measurement on a filled server: create /bench/mem/last, kill -9, restart on the
 * same data folder, time until that znode is readable, then check every parent's child count.
 */
async function recoverAfterKill(srv: BenchServer, plan: FillPlan, rec: RunRecord): Promise<void> {
  await withSession(srv, async (s) => {
    const r = await s.call(req.create('/bench/mem/last', VALUE_1K));
    if (r.err !== 0) rec.errors[errorName(r.err)] = (rec.errors[errorName(r.err)] ?? 0) + 1;
  });
  const t0 = performance.now();
  await srv.crashAndRestart();
  const found = await withSession(srv, async (s) => {
    for (;;) {
      const r = await s.call(req.getData('/bench/mem/last'));
      if (r.err === 0) break;
      if (performance.now() - t0 > 120000) throw new Error('last znode not readable 120 s after restart');
      await delay(5);
    }
    rec.extra['recoveryMs'] = performance.now() - t0;
    const parents = Array.from({ length: fillParents(plan) }, (_, i) => fillParentPath(i));
    const top = await childCount(s, ['/bench/mem']);
    return { top, leaves: await childCount(s, parents) };
  });
  rec.extra['restartRuokMs'] = srv.times.ruokMs;
  rec.extra['znodesAfterRecovery'] = found.leaves;
  rec.extra['znodesExpected'] = plan.znodes;
  // /bench/mem holds the parents and 'last'; the parents hold the filled znodes.
  const expectedTop = fillParents(plan) + 1;
  if (found.leaves !== plan.znodes || found.top !== expectedTop) {
    const missing = Math.abs(plan.znodes - found.leaves) + Math.abs(expectedTop - found.top);
    rec.errors['recovery: znode count wrong after restart'] = Number.isFinite(missing) ? missing : 1;
  }
}

async function runOne(kind: ServerKind, workload: string, pair: number, opts: Options, root: string, x: RunExtras = {}): Promise<RunRecord> {
  const info = workloadInfo(workload);
  const rec: RunRecord = { workload, server: kind, pair, ok: true, errors: {}, notes: [], extra: {} };
  const dir = path.join(root, `${workload}-${kind}-${pair}${x.tuned !== undefined ? `-${x.tuned.xmxMb}m` : ''}`);
  const plan = fillPlan(opts);
  let server: BenchServer | null = null;
  if (x.tuned !== undefined) rec.extra['xmxMb'] = x.tuned.xmxMb;
  try {
    server = await BenchServer.start(kind, dir, x.tuned);
    rec.extra['startRuokMs'] = server.times.ruokMs;
    rec.extra['startFirstRequestMs'] = server.times.firstRequestMs;
    const srv = server;
    if (info.kind !== 'startup') await withSession(srv, (s) => globalSetup(s, workload, plan));

    if (info.kind === 'closed' || info.kind === 'churn') {
      const churn = info.kind === 'churn';
      const sessions = churn ? opts.churners : Math.max(opts.workers, info.sessions ?? opts.sessions);
      const depth = churn ? 1 : (info.depth ?? opts.depth);
      const sat = await timedPhase(serverTarget(srv), workload, opts.workers, sessions, depth, opts.warmupMs, opts.durationMs);
      rec.saturated = measurementOf(sat);
      addErrors(rec.errors, sat, rec.notes);
      const single = await timedPhase(serverTarget(srv), workload, 1, 1, 1, opts.singleWarmupMs, opts.singleMs);
      rec.single = measurementOf(single);
      addErrors(rec.errors, single, rec.notes);
    } else if (info.kind === 'memory' || info.kind === 'recovery') {
      await delay(1000);
      const idle = memory(srv.pid).rss;
      const units = fillUnits(plan);
      const fill = await countPhase(srv, workload, opts.workers, opts.sessions, opts.fillDepth, units, plan, x.fillTimeoutMs ?? 600000);
      addErrors(rec.errors, fill, rec.notes);
      rec.extra['fillSeconds'] = fill.seconds;
      rec.extra['znodesPerSec'] = fill.ops === units ? plan.znodes / fill.seconds : Number.NaN;
      if (!srv.alive) throw new Error(`${kind} died during the fill`);
      if (info.kind === 'memory') {
        rec.saturated = measurementOf(fill);
        await delay(1000);
        const after = memory(srv.pid);
        rec.extra['idleRssBytes'] = idle;
        rec.extra['rssAfterBytes'] = after.rss;
        rec.extra['bytesPerZnode'] = (after.rss - idle) / plan.znodes;
        // Peak now: the full GC below (jcmd) must not count.
        rec.peakRssBytes = after.hwm;
        const gc = gcPauses(srv.dir);
        if (gc !== null) {
          rec.extra['gcPauses'] = gc.pauses;
          rec.extra['gcFullPauses'] = gc.full;
          rec.extra['gcPauseMs'] = gc.totalMs;
          rec.extra['gcFullPauseMs'] = gc.fullMs;
          rec.extra['gcMaxPauseMs'] = gc.maxMs;
        }
        if (x.measureLiveHeap === true) {
          const t = performance.now();
          rec.extra['liveHeapBytes'] = liveHeapBytes(srv.pid);
          rec.extra['liveHeapJcmdMs'] = performance.now() - t;
        }
      } else {
        await recoverAfterKill(srv, plan, rec);
      }
      if (x.recovery !== undefined) {
        // The memory run goes on as the recovery run: the same fill, so it is not done twice.
        const r = x.recovery;
        for (const k of ['startRuokMs', 'startFirstRequestMs', 'fillSeconds', 'znodesPerSec']) {
          const v = rec.extra[k];
          if (v !== undefined) r.extra[k] = v;
        }
        r.ok = true;
        delete r.failure;
        try {
          await recoverAfterKill(srv, plan, r);
          if (!srv.alive) throw new Error(`${kind} died after the restart`);
          r.peakRssBytes = memory(srv.pid).hwm;
        } catch (e) {
          r.ok = false;
          r.failure = `${e instanceof Error ? e.message : String(e)}\n--- server log tail ---\n${srv.logTail(2000)}`;
        }
      }
    } else if (info.kind === 'fanout') {
      await runFanout(srv, opts, rec);
    }
    if (!srv.alive) throw new Error(`${kind} died during the run`);
    if (rec.peakRssBytes === undefined) rec.peakRssBytes = memory(srv.pid).hwm;
  } catch (e) {
    rec.ok = false;
    rec.failure = e instanceof Error ? e.message : String(e);
    if (e instanceof FillTimeout) {
      rec.extra['fillTimedOut'] = 1;
      // A JVM thrashing in GC may take long to stop; its data is not needed.
      if (server?.alive === true) server.child.kill('SIGKILL');
    }
    if (server !== null) {
      if (!server.alive) rec.extra['died'] = 1;
      if (server.outOfMemory()) rec.extra['outOfMemory'] = 1;
      rec.failure += `\n--- server log tail ---\n${server.logTail(2000)}`;
    }
  } finally {
    if (server !== null) {
      const tStop = performance.now();
      await server.stop();
      rec.extra['stopMs'] = performance.now() - tStop;
    }
    await fsp.rm(dir, { recursive: true, force: true });
  }
  return rec;
}

async function runFanout(srv: BenchServer, opts: Options, rec: RunRecord): Promise<void> {
  const tConnect = performance.now();
  const ws = await startWorkers(serverTarget(srv), 'fanout', opts.workers, opts.fanSessions, 1, 'fan');
  rec.extra['fanoutConnectMs'] = performance.now() - tConnect;
  const rounds: number[] = [];
  try {
    await withSession(srv, async (setter) => {
      for (let r = 0; r < opts.fanRounds; r++) {
        for (const w of ws) w.send({ type: 'arm' });
        await Promise.all(ws.map((w) => w.next('armed', 60000)));
        const t0 = epochNow();
        const notified = Promise.all(ws.map((w) => w.next('notified', 60000)));
        const set = await setter.call(req.setData('/bench/fan', VALUE_100));
        if (set.err !== 0) rec.errors[errorName(set.err)] = (rec.errors[errorName(set.err)] ?? 0) + 1;
        const all = await notified;
        rounds.push(Math.max(...all.map((m) => m.lastAt)) - t0);
      }
    });
    const tStop = performance.now();
    for (const w of ws) w.send({ type: 'stop' });
    const results = await Promise.all(ws.map((w) => w.next('result', 60000)));
    rec.extra['fanoutDisconnectMs'] = performance.now() - tStop;
    const merged = mergeResults(results.map((m) => m.result));
    for (const [code, n] of merged.errors) rec.errors[errorName(code)] = (rec.errors[errorName(code)] ?? 0) + n;
  } finally {
    await Promise.all(ws.map((w) => w.end()));
  }
  rounds.sort((a, b) => a - b);
  rec.extra['fanoutMedianMs'] = rounds[Math.floor(rounds.length / 2)] ?? Number.NaN;
  rec.extra['fanoutMaxMs'] = rounds[rounds.length - 1] ?? Number.NaN;
  rec.extra['fanoutSessions'] = opts.fanSessions;
}

// ---- 3-member ensembles ----------------------------------------------------------------------------

/**
 * One fresh ensemble of `kind` runs the ensemble workloads in turn (one ensemble per server and
 * pair instead of one per workload: each start costs seconds of JVM start and leader election).
 * Sessions go round-robin over the members starting at the leader, so both servers' leaders carry
 * the same share (16 sessions: 6, 5, 5); the single-request session goes to a follower, as two of
 * three clients of a real ensemble do. Returns one record per workload.
 */
async function runEnsemble(kind: EnsembleKind, pair: number, workloads: string[], opts: Options, root: string): Promise<RunRecord[]> {
  const recs: RunRecord[] = workloads.map((workload) => ({ workload, server: kind, pair, ok: true, errors: {}, notes: [], extra: {} }));
  const dir = path.join(root, `ensemble-${kind}-${pair}`);
  let ens: BenchEnsemble | null = null;
  try {
    ens = await BenchEnsemble.start(kind, dir);
    const leader = await ens.leaderId();
    const members = [...ens.members].sort((a, b) => Number(b.id === leader) - Number(a.id === leader) || a.id - b.id);
    for (const rec of recs) {
      rec.extra['ensembleReadyMs'] = ens.readyMs;
      rec.extra['leaderId'] = leader;
    }
    for (const rec of recs) {
      const t = performance.now();
      try {
        if (!ens.alive) throw new Error(`a member of the ${kind} ensemble exited before this workload`);
        await ensembleWorkload(ens, members, rec, opts);
        if (!ens.alive) throw new Error(`a member of the ${kind} ensemble exited during this workload`);
      } catch (e) {
        rec.ok = false;
        rec.failure = `${e instanceof Error ? e.message : String(e)}\n${ens.logTail()}`;
      }
      logRun(rec, performance.now() - t, opts.pairs);
    }
    const after = ens.alive ? await ens.leaderId(2000).catch(() => Number.NaN) : Number.NaN;
    for (const rec of recs) {
      rec.extra['leaderIdAfter'] = after;
      if (after === leader) continue;
      const end = Number.isFinite(after) ? `member ${after}` : 'no single leader';
      rec.notes.push(`${kind} ensemble leader changed during the workloads: member ${leader} at the start, ${end} at the end (srvr)`);
    }
  } catch (e) {
    // The ensemble did not start (or had no leader): none of its workloads ran.
    const msg = `${e instanceof Error ? e.message : String(e)}${ens !== null ? `\n${ens.logTail()}` : ''}`;
    for (const rec of recs) {
      rec.ok = false;
      rec.failure = msg;
      logRun(rec, 0, opts.pairs);
    }
  } finally {
    if (ens !== null) {
      const tStop = performance.now();
      await ens.stop();
      for (const rec of recs) rec.extra['stopMs'] = performance.now() - tStop;
    }
    await fsp.rm(dir, { recursive: true, force: true });
  }
  return recs;
}

/** One ensemble workload: set-up, saturated phase, single-request phase. `members`: leader first. */
async function ensembleWorkload(ens: BenchEnsemble, members: EnsembleMember[], rec: RunRecord, opts: Options): Promise<void> {
  const info = workloadInfo(rec.workload);
  // Set-up through a session on every member in turn: a member answers a session's write only
  // once it has applied it, so afterwards every member has the tree (new sessions on a
  // follower carry no zxid and could otherwise read a tree that lags).
  for (const m of members) await withSession(m.port, (s) => globalSetup(s, rec.workload));
  const ports = members.map((m) => m.port);
  const leaderPort = ports[0] as number;
  // setData of /bench (there in every ensemble workload): one commit, nothing else changes.
  const nudge = (): Promise<void> =>
    withSession(leaderPort, async (s) => {
      await s.call(req.setData('/bench', Buffer.alloc(0)));
    });
  const sessions = Math.max(opts.workers, info.sessions ?? opts.sessions);
  const sat = await timedPhase({ ports, pids: ens.pids, first: 0, nudge }, rec.workload, opts.workers, sessions, info.depth ?? opts.depth, opts.ensWarmupMs, opts.ensDurationMs);
  rec.saturated = measurementOf(sat);
  addErrors(rec.errors, sat, rec.notes);
  // first: 1 is the first follower (members are ordered leader first).
  const single = await timedPhase({ ports, pids: ens.pids, first: 1, nudge }, rec.workload, 1, 1, 1, opts.ensSingleWarmupMs, opts.ensSingleMs);
  rec.single = measurementOf(single);
  addErrors(rec.errors, single, rec.notes);
  rec.extra['nudgesSaturated'] = sat.nudges;
  rec.extra['nudgesSingle'] = single.nudges;
  // Summed over the members and cumulative: the ensemble ran the earlier ensemble workloads too.
  rec.peakRssBytes = ens.pids.reduce((sum, pid) => sum + memory(pid).hwm, 0);
}

// ---- tuned-JVM ZooKeeper (memory workload) ---------------------------------------------------------

const MIB = 2 ** 20;

function medianOf(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length === 0 ? Number.NaN : ((v[(v.length - 1) >> 1] as number) + (v[v.length >> 1] as number)) / 2;
}

/**
 * One tuned-ZooKeeper memory run: the same ZooKeeper with -XX:+UseSerialGC and the smallest
 * -Xmx found to hold the data.
 *  - With jcmd: the first -Xmx tried is the default ZooKeeper's heap in use after a full GC
 *    (the live data: no smaller heap can hold it), then +10 % on failure.
 *  - Without jcmd (a JRE only): a blind search from 256 B per znode (256 MiB for 1,000,000; at
 *    least 32 MiB), +25 % on failure.
 * A failure is an OutOfMemoryError or a fill not done within 2× the default ZooKeeper's fill
 * time (at least 20 s): a heap that small keeps the JVM busy in full GCs (SerialGC has no
 * GC-overhead limit, so it would thrash for a long time before an OutOfMemoryError). Later pairs
 * start from the -Xmx that worked (and step up again should it fail there). Failed attempts are
 * reported, not counted as errors.
 */
async function runTuned(pair: number, opts: Options, root: string, runs: RunRecord[], state: TunedReport): Promise<RunRecord> {
  const defaults = runs.filter((r) => r.workload === 'memory' && r.server === 'zookeeper' && r.ok);
  if (!Number.isFinite(state.startMb) && Number.isFinite(opts.tunedXmxMb)) {
    state.method = 'given';
    state.startMb = opts.tunedXmxMb;
    state.xmxMb = state.startMb;
  }
  if (!Number.isFinite(state.startMb)) {
    const live = medianOf(defaults.map((r) => r.extra['liveHeapBytes'] ?? Number.NaN));
    if (state.method === 'jcmd' && Number.isFinite(live)) {
      state.liveMb = live / MIB;
      state.startMb = Math.ceil(live / MIB);
    } else {
      state.method = 'search';
      state.startMb = Math.max(32, Math.ceil((opts.memZnodes * 256) / MIB));
    }
    state.xmxMb = state.startMb;
  }
  const defaultFill = medianOf(defaults.map((r) => r.extra['fillSeconds'] ?? Number.NaN));
  const fillTimeoutMs = Math.max(20000, Number.isFinite(defaultFill) ? 2000 * defaultFill : 120000);
  const step = state.method === 'jcmd' ? 1.1 : 1.25;
  let rec: RunRecord | null = null;
  for (let attempt = 0; attempt < 15; attempt++) {
    const xmxMb = state.xmxMb;
    const t = performance.now();
    rec = await runOne('zookeeper-tuned', 'memory', pair, opts, root, { tuned: { xmxMb }, fillTimeoutMs });
    const outcome = rec.ok
      ? 'ok'
      : rec.extra['outOfMemory'] === 1
        ? 'OutOfMemoryError'
        : rec.extra['fillTimedOut'] === 1
          ? `fill not done within ${Math.round(fillTimeoutMs / 1000)} s (GC thrashing)`
          : `failed: ${rec.failure?.split('\n')[0] ?? ''}`;
    state.attempts.push({ pair, xmxMb, outcome, fillSeconds: rec.extra['fillSeconds'] ?? Number.NaN });
    const tooSmall = !rec.ok && (rec.extra['outOfMemory'] === 1 || rec.extra['fillTimedOut'] === 1);
    if (!tooSmall) {
      if (rec.ok) state.okMb = xmxMb;
      return rec;
    }
    state.xmxMb = Math.ceil(xmxMb * step);
    log(`memory pair ${pair + 1}/${opts.pairs} zookeeper-tuned -Xmx${xmxMb}m: ${outcome} (${((performance.now() - t) / 1000).toFixed(1)} s); trying -Xmx${state.xmxMb}m`);
  }
  return rec as RunRecord;
}

// ---- machine -----------------------------------------------------------------------------------

function machine(root: string): Record<string, string> {
  const cpus = os.cpus();
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  let fsType = 'unknown';
  try {
    const st = fs.statfsSync(root);
    fsType = `0x${st.type.toString(16)}`;
  } catch {
    // older node
  }
  const df = spawnSync('df', ['-T', root], { encoding: 'utf8' }).stdout.trim().split('\n')[1] ?? '';
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    java: (java.stderr.split('\n')[0] ?? '').trim(),
    dataRoot: root,
    filesystem: df !== '' ? df.replace(/\s+/g, ' ') : fsType,
  };
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'zooraft-bench-'));
  log(`data root ${root}; ${opts.quick ? 'QUICK' : 'full'} mode, ${opts.pairs} pair(s), workloads: ${opts.workloads.join(', ')}`);
  const fsync = probeFsync(root, 400);
  log(`fsync probe (1 KiB overwrite + fdatasync, ${fsync.iterations}×): p10 ${fsync.p10Ms.toFixed(3)} ms, p50 ${fsync.p50Ms.toFixed(3)} ms, p99 ${fsync.p99Ms.toFixed(3)} ms`);
  const runs: RunRecord[] = [];
  const jcmd = opts.workloads.includes('memory') && haveJcmd();
  const tuned: TunedReport = { method: jcmd ? 'jcmd' : 'search', liveMb: Number.NaN, startMb: Number.NaN, xmxMb: Number.NaN, okMb: Number.NaN, attempts: [] };
  if (opts.workloads.includes('memory')) log(`tuned ZooKeeper: -Xmx from ${jcmd ? 'the live heap after a full GC (jcmd), then +10 %' : 'a blind search (no jcmd here): 256 B/znode, +25 %'} until the fill succeeds`);
  const ensemble = opts.workloads.filter((w) => workloadInfo(w).kind === 'ensemble');
  // With both selected, each memory run of the default ZooKeeper and of zooraft goes on as a
  // recovery run: one fill of 1,000,000 znodes instead of two saves ~80 s of a full run.
  const recoveryWithMemory = opts.workloads.includes('memory') && opts.workloads.includes('recovery');
  try {
    for (const workload of opts.workloads.filter((w) => !ensemble.includes(w))) {
      if (workload === 'recovery' && recoveryWithMemory) continue;
      // The memory workload also runs the tuned-JVM ZooKeeper, after the default one (whose live heap sets its first -Xmx).
      const servers: ServerKind[] = workload === 'memory' ? ['zookeeper', 'zookeeper-tuned', 'zooraft'] : ['zookeeper', 'zooraft'];
      for (let pair = 0; pair < opts.pairs; pair++) {
        for (const kind of servers) {
          const t = performance.now();
          const recovery: RunRecord | undefined =
            workload === 'memory' && recoveryWithMemory && kind !== 'zookeeper-tuned'
              ? { workload: 'recovery', server: kind, pair, ok: false, failure: 'not run: the memory run before it failed', errors: {}, notes: [], extra: {} }
              : undefined;
          const rec =
            kind === 'zookeeper-tuned'
              ? await runTuned(pair, opts, root, runs, tuned)
              : await runOne(kind, workload, pair, opts, root, { measureLiveHeap: jcmd && workload === 'memory' && kind === 'zookeeper', recovery });
          runs.push(rec);
          logRun(rec, performance.now() - t, opts.pairs);
          if (recovery !== undefined) {
            runs.push(recovery);
            logRun(recovery, performance.now() - t, opts.pairs);
          }
        }
      }
    }
    // Ensembles last, alternating as above: ZooKeeper, zooraft, ZooKeeper, ...
    for (let pair = 0; pair < opts.pairs && ensemble.length > 0; pair++) {
      for (const kind of ['zookeeper', 'zooraft'] as const) {
        const t = performance.now();
        const recs = await runEnsemble(kind, pair, ensemble, opts, root);
        runs.push(...recs);
        const first = recs[0];
        log(`ensemble pair ${pair + 1}/${opts.pairs} ${kind}: ready in ${fmtMs(first?.extra['ensembleReadyMs'])}, leader member ${String(first?.extra['leaderId'] ?? '?')}, all ${ensemble.length} workloads + stop ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
  const finishedAt = new Date();
  const report: Report = {
    ...(opts.workloads.includes('memory') ? { tuned } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSec: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    options: opts,
    machine: machine(os.tmpdir()),
    fsync,
    runs,
  };
  const text = renderReport(report);
  process.stdout.write(text);
  await fsp.mkdir(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonPath = path.join(RESULTS_DIR, `bench-${opts.quick ? 'quick-' : ''}${stamp}.json`);
  await fsp.writeFile(jsonPath, JSON.stringify(report, null, 1));
  await fsp.writeFile(path.join(RESULTS_DIR, 'latest.json'), JSON.stringify(report, null, 1));
  const svgPath = path.join(RESULTS_DIR, opts.quick ? 'ratios-quick.svg' : 'ratios.svg');
  await fsp.writeFile(svgPath, renderSvg(report));
  process.stdout.write(`\nraw results: ${path.relative(process.cwd(), jsonPath)}  chart: ${path.relative(process.cwd(), svgPath)}\n`);
  const failed = runs.filter((r) => !r.ok);
  const withErrors = runs.filter((r) => Object.values(r.errors).some((n) => n > 0));
  if (failed.length > 0 || withErrors.length > 0) {
    process.stdout.write(`\nFAILED: ${failed.length} run(s) failed, ${withErrors.length} run(s) had request errors (see above); exit status 1\n`);
    return 1;
  }
  return 0;
}

function logRun(rec: RunRecord, ms: number, pairs: number): void {
  const s = rec.saturated;
  const errs = Object.values(rec.errors).reduce((a, b) => a + b, 0);
  log(
    `${rec.workload} pair ${rec.pair + 1}/${pairs} ${rec.server}: ` +
      (rec.ok ? (s !== undefined ? `${Math.round(s.opsPerSec)} ops/s p99 ${(s.p99Us / 1000).toFixed(2)} ms` : JSON.stringify(roundAll(rec.extra))) : `FAILED ${rec.failure?.split('\n')[0] ?? ''}`) +
      (errs > 0 ? ` ERRORS ${JSON.stringify(rec.errors)}` : '') +
      ` (${(ms / 1000).toFixed(1)} s)`,
  );
}

function fmtMs(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '?' : `${Math.round(v)} ms`;
}

function roundAll(o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) out[k] = Math.round(v * 10) / 10;
  return out;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);

