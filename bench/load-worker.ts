// One load-generator process (child_process.fork from run.ts). It opens its sessions, waits
// for "go", keeps `depth` requests in flight per session until the end of the window, checks
// every reply, and sends back a latency histogram, the op count inside the measuring window,
// errors by code and its own CPU use. Times are exchanged as epoch milliseconds
// (performance.timeOrigin + performance.now()), which every process on the machine shares.
import { performance } from 'node:perf_hooks';
import { Histogram } from './hist.js';
import { ClientError, LeanSession } from './lean-client.js';
import { generator, req, sessionSetup, checks, VALUE_100, workloadInfo } from './workloads.js';
import type { FromWorker, ToWorker, WorkerConfig, WorkerResult } from './protocol.js';
import { StockClientLoad } from './stock-client-load.js';

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
function toLocal(epochMs: number): number {
  return epochMs - performance.timeOrigin;
}
function post(m: FromWorker): void {
  process.send?.(m);
}
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const errors = new Map<number, number>();
const protocolErrors: string[] = [];
function countError(code: number): void {
  errors.set(code, (errors.get(code) ?? 0) + 1);
}

let cfg: WorkerConfig;
let sessions: LeanSession[] = [];
/** node-zookeeper-client load (workloads marked stockClient), instead of lean sessions. */
let stock: StockClientLoad | null = null;
const hist = new Histogram();
let ops = 0;
let cpuStart = process.cpuUsage();
let windowFrom = Number.POSITIVE_INFINITY;
let windowTo = Number.POSITIVE_INFINITY;
let stopAt = Number.POSITIVE_INFINITY;

/** The port session j of this worker connects to: the server's, or its member of the ensemble. */
function portOf(j: number): number {
  const ports = cfg.ports ?? [];
  return ports.length === 0 ? cfg.port : (ports[((cfg.sessionBase ?? 0) + j) % ports.length] as number);
}

async function connectAll(n: number, idBase: string): Promise<LeanSession[]> {
  const out: LeanSession[] = [];
  // At most 25 connects at once per worker: ZooKeeper's default listen backlog (50) drops SYNs
  // beyond that and the client retries a second later, which would time the backlog, not the server.
  const batch = 25;
  for (let i = 0; i < n; i += batch) {
    const part = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async (_, k) => {
        const s = await LeanSession.connect(cfg.host, portOf(i + k));
        s.onProtocolError = (what) => {
          if (protocolErrors.length < 20) protocolErrors.push(what);
        };
        await sessionSetup(s, cfg.workload, `${idBase}-${i + k}`);
        return s;
      }),
    );
    out.push(...part);
  }
  return out;
}

function inWindow(t: number): boolean {
  return t >= windowFrom && t < windowTo;
}

/** Closed loop: every reply sends the next request of that session until stopAt. */
function runClosed(): Promise<void> {
  return new Promise((resolve) => {
    let live = 0;
    const countDone = cfg.count !== undefined;
    let remaining = cfg.count ?? Number.POSITIVE_INFINITY;
    // Count mode with a fill plan: the sessions share the worker's range of fill units.
    let nextUnit = cfg.first ?? 0;
    sessions.forEach((s, i) => {
      const gen = generator(cfg.workload, `${cfg.phase}${cfg.workerIndex}-${i}`, cfg.fill);
      let seq = 0;
      const issue = (): void => {
        if (performance.now() >= stopAt || remaining <= 0 || s.closed) return;
        remaining--;
        const r = gen(countDone && cfg.fill !== undefined ? nextUnit++ : seq++);
        live++;
        const ok = s.send(r.frame, (err, body, sentAt) => {
          live--;
          const now = performance.now();
          const code = err !== 0 ? err : r.check(body);
          if (code !== 0) countError(code);
          else if (inWindow(now)) {
            ops++;
            hist.record((now - sentAt) * 1000);
          }
          issue();
          if (live === 0 && (performance.now() >= stopAt || remaining <= 0 || sessions.every((x) => x.closed))) resolve();
        });
        if (!ok) {
          live--;
          countError(ClientError.ConnectionLost);
        }
      };
      for (let k = 0; k < cfg.depth; k++) issue();
    });
    if (live === 0) resolve();
    if (!countDone) {
      // Time-bounded: make sure we resolve even if every session died.
      const t = setInterval(() => {
        if (live === 0) {
          clearInterval(t);
          resolve();
        }
      }, 50);
    }
  });
}

/** Ephemeral churn: each of `sessions` loops connect → create ephemeral → closeSession. */
async function runChurn(): Promise<void> {
  const loops = Array.from({ length: cfg.sessions }, async (_, i) => {
    let n = 0;
    while (performance.now() < stopAt) {
      const t0 = performance.now();
      let s: LeanSession;
      try {
        s = await LeanSession.connect(cfg.host, cfg.port);
      } catch {
        countError(ClientError.ConnectFailed);
        await delay(10);
        continue;
      }
      const r = await s.call(req.create(`/bench/eph/e-${cfg.phase}${cfg.workerIndex}-${i}-${n++}`, VALUE_100, 1));
      const code = r.err !== 0 ? r.err : checks.createdPath(r.body);
      await s.close();
      if (s.closeReason !== 'closed by client') countError(ClientError.ConnectionLost);
      const now = performance.now();
      if (code !== 0) countError(code);
      else if (inWindow(now)) {
        ops++;
        hist.record((now - t0) * 1000);
      }
    }
  });
  await Promise.all(loops);
}

/** Fan-out: arm a data watch on every session, report when every session has been notified. */
let fanPending = 0;
let fanLast = 0;
function armFanout(): void {
  let acks = 0;
  fanPending = sessions.length;
  for (const s of sessions) {
    s.send(req.getData('/bench/fan', true), (err) => {
      if (err !== 0) countError(err);
      if (++acks === sessions.length) post({ type: 'armed' });
    });
  }
}

function result(): WorkerResult {
  const cpu = process.cpuUsage(cpuStart);
  return {
    ops,
    hist: hist.toSparse(),
    errors: [...errors.entries()],
    protocolErrors,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
  };
}

async function closeAll(): Promise<void> {
  const lost = sessions.filter((s) => s.closed && s.closeReason !== 'closed by client');
  for (const s of lost) {
    if (protocolErrors.length < 20) protocolErrors.push(`session closed during the run: ${s.closeReason ?? ''}`);
  }
  if (cfg.workload === 'fanout') {
    for (const s of sessions) s.destroy();
    return;
  }
  await Promise.all(sessions.filter((s) => !s.closed).map((s) => s.close()));
}

process.on('message', (raw: unknown) => {
  const m = raw as ToWorker;
  void (async () => {
    try {
      if (m.type === 'init') {
        cfg = m.cfg;
        if (workloadInfo(cfg.workload).stockClient === true) {
          stock = new StockClientLoad({
            host: cfg.host,
            port: cfg.port,
            workload: cfg.workload,
            sessions: cfg.sessions,
            depth: cfg.depth,
            id: `${cfg.phase}${cfg.workerIndex}`,
            stopAt: () => stopAt,
            onReply: (us, at) => {
              if (inWindow(at)) {
                ops++;
                hist.record(us);
              }
            },
            onError: countError,
          });
          await stock.open();
        } else if (cfg.workload !== 'churn') sessions = await connectAll(cfg.sessions, `${cfg.phase}${cfg.workerIndex}`);
        for (const s of sessions) {
          s.onEvent = (ev) => {
            if (ev.type === 3 && ev.path === '/bench/fan') {
              fanLast = epochNow();
              if (--fanPending === 0) post({ type: 'notified', lastAt: fanLast });
            }
          };
        }
        post({ type: 'ready' });
      } else if (m.type === 'go') {
        windowFrom = toLocal(m.measureFrom);
        windowTo = toLocal(m.measureTo);
        stopAt = m.count !== undefined ? Number.POSITIVE_INFINITY : windowTo;
        if (m.count !== undefined) {
          windowFrom = Number.NEGATIVE_INFINITY;
          windowTo = Number.POSITIVE_INFINITY;
          cfg.count = m.count;
          if (m.first !== undefined) cfg.first = m.first;
        }
        cpuStart = process.cpuUsage();
        if (cfg.workload === 'churn') await runChurn();
        else if (stock !== null) await stock.run();
        else await runClosed();
        stock?.close();
        const res = result();
        await closeAll();
        post({ type: 'result', result: res });
      } else if (m.type === 'arm') {
        armFanout();
      } else if (m.type === 'stop') {
        await closeAll();
        post({ type: 'result', result: result() });
      }
    } catch (e) {
      post({ type: 'failed', error: e instanceof Error ? `${e.message}` : String(e) });
    }
  })();
});

process.on('disconnect', () => process.exit(0));
