// Differential testing: the same scripted requests, sent with compat/raw-client.ts to real
// ZooKeeper and to zooraft, and the replies normalized so they can be compared field by field.
//
// A scenario is a data-driven list of steps (compat/differential-scenarios.ts). Each step
// yields an observation; values that legitimately differ between servers are tagged while
// recording and normalized afterwards, per target:
// - zxids (Stat czxid/mzxid/pzxid, reply zxid of successful writes) -> 'z<rank>' among all
//   such zxids seen on that target, so the order and equalities must match, not the values;
// - times (ctime/mtime) -> 'in-window' when inside the scenario's wall-clock window (or from
//   RunOptions.windowStartMs to the scenario's end),
//   mtime -> '=ctime' when equal to ctime;
// - session ids -> the name of the client that owns them ('session:a'), 0 stays 0.
// Watch events are recorded where they arrive: with the reply of the request on the same
// connection (they must precede it), or by an explicit `events` step for other connections.
import { RawClient } from './raw-client.js';
import type { RawEvent } from './raw-client.js';
import { JuteReader, OpCode, Xid } from '../wire/index.js';
import type { JuteWriter, Stat } from '../wire/index.js';

export interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** Tagged values, replaced during normalization. */
export class Zxid {
  constructor(readonly value: bigint) {}
}
export class Time {
  /** `sameAs`: the ctime this mtime is compared with. */
  constructor(readonly value: bigint, readonly sameAs: bigint | null = null) {}
}
export class Session {
  constructor(readonly value: bigint) {}
}

export type Observation = unknown;

export interface ClientState {
  readonly name: string;
  client: RawClient;
  /** Index of the first event not yet put in an observation. */
  drained: number;
}

export class RunContext {
  readonly target: Target;
  readonly clients = new Map<string, ClientState>();
  /** Low end of the time window (see the file comment). */
  readonly startMs: bigint;

  constructor(target: Target, startMs: bigint = BigInt(Date.now())) {
    this.target = target;
    this.startMs = startMs;
  }

  client(name: string): ClientState {
    const c = this.clients.get(name);
    if (c === undefined) throw new Error(`no client named ${name} (connect it first)`);
    return c;
  }

  /** Events that arrived on a client since the last observation that took them. */
  takeEvents(c: ClientState): EventObservation[] {
    const out = c.client.events.slice(c.drained).map(eventObservation);
    c.drained = c.client.events.length;
    return out;
  }

  async closeAll(): Promise<void> {
    for (const c of this.clients.values()) await c.client.disconnect().catch(() => undefined);
  }

  /**
   * Ends every session with closeSession, reattaching first to those whose connection was
   * closed: on a server shared by several scenarios, no session (or its ephemerals) outlives
   * the scenario that made it.
   */
  async endSessions(): Promise<void> {
    for (const c of this.clients.values()) {
      try {
        const client = c.client.closed
          ? await RawClient.connect({ host: this.target.host, port: this.target.port, sessionId: c.client.sessionId, passwd: c.client.passwd })
          : c.client;
        await client.close();
      } catch {
        // Already ended (closeSession step) or expired: the server refuses the reattach.
      }
    }
  }
}

export interface Step {
  label: string;
  run(ctx: RunContext): Promise<Observation>;
}

export interface Scenario {
  name: string;
  steps: Step[];
}

export interface EventObservation {
  type: number;
  state: number;
  path: string;
  zxid: bigint;
}

function eventObservation(e: RawEvent): EventObservation {
  return { type: e.type, state: e.state, path: e.path, zxid: e.zxid };
}

export const STEP_TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what} (${ms} ms)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function tagStat(s: Stat): Record<string, unknown> {
  return {
    czxid: new Zxid(s.czxid),
    mzxid: new Zxid(s.mzxid),
    ctime: new Time(s.ctime),
    mtime: new Time(s.mtime, s.ctime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: new Session(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: new Zxid(s.pzxid),
  };
}

export interface RequestSpec {
  label: string;
  as: string;
  op: number;
  body?: (w: JuteWriter) => void;
  xid?: number;
  /** Decodes the reply body (err == 0 only) into an observation. */
  decode?: (r: JuteReader) => Observation;
  /** A write: the reply zxid of a success is recorded (mapped). */
  write?: boolean;
  /**
   * For writes whose reply err is 0 even when they fail (multi): whether the decoded result
   * is a success. A failed write's reply zxid is not compared: ZooKeeper spends a zxid on an
   * error txn, which clients cannot rely on (ZOOKEEPER.md §6).
   */
  succeeded?: (res: Observation) => boolean;
  /** The server is expected to close the connection after replying. */
  closes?: boolean;
}

/** One request and its reply; events that came before the reply on that connection included. */
export function request(spec: RequestSpec): Step {
  return {
    label: spec.label,
    async run(ctx) {
      const c = ctx.client(spec.as);
      let reply;
      try {
        reply = await withTimeout(c.client.request(spec.op, spec.body, spec.xid), STEP_TIMEOUT_MS, spec.label);
      } catch (e) {
        // The pending request stays queued in the client: drop the connection so later steps
        // on it fail fast instead of pairing replies with the wrong requests.
        await c.client.disconnect().catch(() => undefined);
        return { error: e instanceof Error ? e.message : String(e) };
      }
      const obs: Record<string, unknown> = { err: reply.err };
      if (spec.xid !== undefined) obs.xid = reply.xid;
      if (reply.err === 0 && spec.decode !== undefined) {
        const r = new JuteReader(reply.body);
        try {
          obs.res = spec.decode(r);
          r.expectEnd(spec.label);
        } catch (e) {
          obs.res = { undecodable: e instanceof Error ? e.message : String(e), hex: reply.body.toString('hex') };
        }
      } else if (reply.err !== 0 && reply.body.length > 0) {
        obs.bodyOnError = reply.body.toString('hex');
      }
      if (spec.write === true && reply.err === 0 && (spec.succeeded?.(obs.res) ?? true)) obs.zxid = new Zxid(reply.zxid);
      const events = ctx.takeEvents(c);
      if (events.length > 0) obs.eventsBeforeReply = events;
      if (spec.closes === true) {
        obs.closed = await c.client.waitForClose(STEP_TIMEOUT_MS).then(
          () => true,
          () => false,
        );
      }
      return obs;
    },
  };
}

export interface ConnectSpec {
  readOnly?: boolean | null;
  timeOutMs?: number;
}

export function connect(as: string, opts: ConnectSpec = {}): Step {
  return {
    label: `connect ${as}`,
    async run(ctx) {
      const client = await RawClient.connect({
        host: ctx.target.host,
        port: ctx.target.port,
        readOnly: opts.readOnly === undefined ? false : opts.readOnly,
        timeOutMs: opts.timeOutMs ?? 30000,
      });
      ctx.clients.set(as, { name: as, client, drained: 0 });
      const r = client.response;
      return {
        protocolVersion: r.protocolVersion,
        timeOut: r.timeOut,
        sessionId: new Session(r.sessionId),
        passwdLength: r.passwd?.length ?? -1,
        readOnly: r.readOnly,
      };
    },
  };
}

/** closeSession, then the server must close the socket. */
export function closeSession(as: string): Step {
  return request({ label: `closeSession ${as}`, as, op: OpCode.closeSession, closes: true, write: true });
}

/** Waits until `count` new events arrived on a client (other connections' writes). */
export function events(as: string, count: number): Step {
  return {
    label: `events ${as} x${count}`,
    async run(ctx) {
      const c = ctx.client(as);
      try {
        await c.client.waitForEvents(c.drained + count, STEP_TIMEOUT_MS);
      } catch {
        return { timeout: true, got: ctx.takeEvents(c) };
      }
      return ctx.takeEvents(c);
    },
  };
}

/**
 * Round-trips a ping on every open client, then reports events nobody took. Notifications
 * of a txn are queued before any later reply, so after the ping nothing is still in flight.
 */
export function settle(): Step {
  return {
    label: 'settle: no stray events',
    async run(ctx) {
      const out: Record<string, unknown> = {};
      for (const [name, c] of ctx.clients) {
        if (c.client.closed) continue;
        await withTimeout(c.client.request(OpCode.ping, undefined, Xid.Ping), STEP_TIMEOUT_MS, `ping ${name}`).catch(() => undefined);
        out[name] = ctx.takeEvents(c);
      }
      return out;
    },
  };
}

export interface StepResult {
  label: string;
  obs: unknown;
}

export interface RunOptions {
  /**
   * Low end of the time window, when the target existed before the scenario (a shared
   * ensemble stamps some system nodes when it starts); the scenario's start otherwise.
   */
  windowStartMs?: bigint;
  /** End the sessions with closeSession afterwards instead of dropping the connections. */
  endSessions?: boolean;
}

/** Runs a scenario against one target; step failures become observations, not exceptions. */
export async function runScenario(target: Target, scenario: Scenario, opts: RunOptions = {}): Promise<StepResult[]> {
  const ctx = new RunContext(target, opts.windowStartMs);
  const raw: StepResult[] = [];
  try {
    for (const step of scenario.steps) {
      let obs: Observation;
      try {
        obs = await step.run(ctx);
      } catch (e) {
        obs = { error: e instanceof Error ? e.message : String(e) };
      }
      raw.push({ label: step.label, obs });
    }
  } finally {
    if (opts.endSessions === true) await ctx.endSessions();
    await ctx.closeAll();
  }
  const endMs = BigInt(Date.now());
  return normalize(raw, ctx, endMs);
}

function walk(v: unknown, visit: (x: unknown) => void): void {
  visit(v);
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (v !== null && typeof v === 'object' && !(v instanceof Zxid) && !(v instanceof Time) && !(v instanceof Session)) {
    for (const x of Object.values(v)) walk(x, visit);
  }
}

/** Replaces tagged values (see the file comment) and bigints by JSON-friendly strings. */
export function normalize(results: StepResult[], ctx: RunContext, endMs: bigint): StepResult[] {
  const zxids = new Set<bigint>();
  for (const r of results) {
    walk(r.obs, (x) => {
      if (x instanceof Zxid && x.value > 0n) zxids.add(x.value);
    });
  }
  const rank = new Map([...zxids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((z, i) => [z, i + 1]));
  const sessions = new Map<bigint, string>();
  for (const c of ctx.clients.values()) sessions.set(c.client.sessionId, `session:${c.name}`);
  const windowLow = ctx.startMs - 2000n;
  const windowHigh = endMs + 2000n;

  const time = (v: bigint): string => {
    if (v === 0n) return '0';
    return v >= windowLow && v <= windowHigh ? 'in-window' : `out-of-window:${v}`;
  };
  const map = (v: unknown): unknown => {
    if (v instanceof Zxid) return v.value > 0n ? `z${rank.get(v.value) ?? '?'}` : v.value.toString();
    if (v instanceof Time) return v.sameAs !== null && v.value === v.sameAs ? '=ctime' : time(v.value);
    if (v instanceof Session) return v.value === 0n ? '0' : (sessions.get(v.value) ?? 'session:other');
    if (typeof v === 'bigint') return v.toString();
    if (Buffer.isBuffer(v)) return `bytes:${v.toString('utf8')}`;
    if (Array.isArray(v)) return v.map(map);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = map(x);
      return out;
    }
    return v;
  };
  return results.map((r) => ({ label: r.label, obs: map(r.obs) }));
}

export interface Mismatch {
  index: number;
  label: string;
  zookeeper: unknown;
  zooraft: unknown;
}

export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Step-by-step comparison; both lists come from the same scenario, so labels line up. */
export function compareRuns(zk: readonly StepResult[], zr: readonly StepResult[]): Mismatch[] {
  const out: Mismatch[] = [];
  const n = Math.max(zk.length, zr.length);
  for (let i = 0; i < n; i++) {
    const a = zk[i];
    const b = zr[i];
    if (a === undefined || b === undefined || !sameJson(a.obs, b.obs)) {
      out.push({ index: i, label: a?.label ?? b?.label ?? '?', zookeeper: a?.obs, zooraft: b?.obs });
    }
  }
  return out;
}

export function formatMismatches(scenario: string, mismatches: readonly Mismatch[]): string {
  const lines = [`${mismatches.length} step(s) of "${scenario}" differ:`];
  for (const m of mismatches) {
    lines.push(`  #${m.index} ${m.label}`);
    lines.push(`    zookeeper: ${JSON.stringify(m.zookeeper)}`);
    lines.push(`    zooraft:   ${JSON.stringify(m.zooraft)}`);
  }
  return lines.join('\n');
}
