// The benchmark workloads: what each session sends, how each reply is checked, and the tree
// each needs. Used by the orchestrator (global set-up) and by the load workers (requests).
import {
  CreateRequest,
  DeleteRequest,
  ErrorCode,
  ExistsRequest,
  GetChildrenRequest,
  GetDataRequest,
  OpCode,
  Perms,
  SetDataRequest,
  writeMultiRequest,
} from '../wire/index.js';
import type { ACL, MultiOp } from '../wire/index.js';
import { ClientError, LeanSession, encodeRequest } from './lean-client.js';

export const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
export const VALUE_1K = Buffer.alloc(1024, 0x61);
export const VALUE_100 = Buffer.alloc(100, 0x62);
export const VALUE_512K = Buffer.alloc(512 * 1024, 0x63);
export const CHILDREN = 1000;
/** Size in bytes of a jute Stat. */
const STAT_BYTES = 68;

/** Turns a reply body into 0 (fine) or an error code; only called when the header err is 0. */
export type Check = (body: Buffer) => number;
export interface Req {
  frame: Buffer;
  check: Check;
}
export type Generator = (seq: number) => Req;

export type WorkloadKind = 'closed' | 'churn' | 'startup' | 'memory' | 'fanout' | 'recovery' | 'ensemble';

export interface WorkloadInfo {
  name: string;
  title: string;
  kind: WorkloadKind;
  /** How one "op" is counted, for the README and the table footnotes. */
  op: string;
  /** True when the workload's ops go through the log (fsync). */
  writes: boolean;
  /** Sessions and requests in flight per session, when the defaults (16 × 32) would not fit (large values). */
  sessions?: number;
  depth?: number;
  /** Driven with node-zookeeper-client instead of the lean protocol client. */
  stockClient?: boolean;
  /** Ensemble workloads: the standalone workload whose tree, request stream and reply checks they reuse. */
  base?: string;
}

export const WORKLOADS: WorkloadInfo[] = [
  { name: 'getData', title: 'getData 1 KiB', kind: 'closed', op: 'one getData of a 1 KiB node', writes: false },
  { name: 'exists', title: 'exists', kind: 'closed', op: 'one exists', writes: false },
  { name: 'getChildren', title: 'getChildren (1,000)', kind: 'closed', op: 'one getChildren of a node with 1,000 children', writes: false },
  { name: 'setData', title: 'setData 1 KiB', kind: 'closed', op: 'one setData of 1 KiB (each session its own node)', writes: true },
  { name: 'createDelete', title: 'create+delete', kind: 'closed', op: 'one request: creates and deletes alternate (a create then the delete of that node)', writes: true },
  { name: 'mix', title: '90/10 read/write', kind: 'closed', op: 'one request: 9 getData then 1 setData (1 KiB) of the same node', writes: true },
  { name: 'multi', title: 'multi of 10', kind: 'closed', op: 'one multi of 5 creates + 5 deletes of the same 5 nodes', writes: true },
  { name: 'getData512k', title: 'getData 512 KiB', kind: 'closed', op: 'one getData of a 512 KiB node (4 sessions × 4 in flight)', writes: false, sessions: 4, depth: 4 },
  { name: 'setData512k', title: 'setData 512 KiB', kind: 'closed', op: 'one setData of 512 KiB (4 sessions × 4 in flight, each session its own node)', writes: true, sessions: 4, depth: 4 },
  { name: 'nzkGetData', title: 'getData 1 KiB, node-zookeeper-client', kind: 'closed', op: 'one getData of a 1 KiB node through node-zookeeper-client (16 clients × 32 in flight)', writes: false, stockClient: true },
  { name: 'nzkSetData', title: 'setData 1 KiB, node-zookeeper-client', kind: 'closed', op: 'one setData of 1 KiB through node-zookeeper-client (each client its own node)', writes: true, stockClient: true },
  { name: 'churn', title: 'ephemeral churn', kind: 'churn', op: 'connect + create ephemeral + closeSession (whole cycle)', writes: true },
  { name: 'startup', title: 'start-up', kind: 'startup', op: 'spawn → ruok answers imok', writes: false },
  { name: 'memory', title: 'memory (N × 100 B znodes)', kind: 'memory', op: 'one multi of 100 creates of 100 B znodes (filling)', writes: true },
  { name: 'fanout', title: 'watch fan-out', kind: 'fanout', op: 'one notification delivered', writes: false },
  { name: 'recovery', title: 'recovery after kill -9', kind: 'recovery', op: 'kill -9 → restart → the last znode readable (tree filled as for memory)', writes: false },
  // One 3-member ensemble per server and pair runs all of these in turn, sessions spread over the members.
  { name: 'ensGetData', title: '3-member ensemble: getData 1 KiB', kind: 'ensemble', op: 'one getData of a 1 KiB node', writes: false, base: 'getData' },
  { name: 'ensSetData', title: '3-member ensemble: setData 1 KiB', kind: 'ensemble', op: 'one setData of 1 KiB (each session its own node)', writes: true, base: 'setData' },
  { name: 'ensCreateDelete', title: '3-member ensemble: create+delete', kind: 'ensemble', op: 'one request: creates and deletes alternate', writes: true, base: 'createDelete' },
  { name: 'ensMix', title: '3-member ensemble: 90/10 read/write', kind: 'ensemble', op: 'one request: 9 getData then 1 setData (1 KiB) of the same node', writes: true, base: 'mix' },
];

/** `--workloads ensemble` stands for these. */
export const ENSEMBLE_WORKLOADS = WORKLOADS.filter((w) => w.kind === 'ensemble').map((w) => w.name);

export function workloadInfo(name: string): WorkloadInfo {
  const w = WORKLOADS.find((x) => x.name === name);
  if (w === undefined) throw new Error(`unknown workload ${name}; known: ${WORKLOADS.map((x) => x.name).join(', ')}`);
  return w;
}

/** The workload whose tree and requests `name` uses: itself, or an ensemble workload's standalone twin. */
function baseOf(name: string): string {
  return WORKLOADS.find((x) => x.name === name)?.base ?? name;
}

// ---- request templates -------------------------------------------------------------------

export const req = {
  getData: (path: string, watch = false): Buffer => encodeRequest(OpCode.getData, (w) => GetDataRequest.write(w, { path, watch })),
  exists: (path: string): Buffer => encodeRequest(OpCode.exists, (w) => ExistsRequest.write(w, { path, watch: false })),
  getChildren: (path: string): Buffer => encodeRequest(OpCode.getChildren, (w) => GetChildrenRequest.write(w, { path, watch: false })),
  setData: (path: string, data: Buffer): Buffer => encodeRequest(OpCode.setData, (w) => SetDataRequest.write(w, { path, data, version: -1 })),
  create: (path: string, data: Buffer, flags = 0): Buffer =>
    encodeRequest(OpCode.create, (w) => CreateRequest.write(w, { path, data, acl: OPEN_ACL, flags })),
  delete: (path: string): Buffer => encodeRequest(OpCode.delete, (w) => DeleteRequest.write(w, { path, version: -1 })),
  multi: (ops: MultiOp[]): Buffer => encodeRequest(OpCode.multi, (w) => writeMultiRequest(w, ops)),
};

const ok: Check = () => 0;
const isStat: Check = (b) => (b.length === STAT_BYTES ? 0 : ClientError.BadReply);
const isData1k: Check = (b) => (b.length === 4 + 1024 + STAT_BYTES && b.readInt32BE(0) === 1024 ? 0 : ClientError.BadReply);
const isData512k: Check = (b) => (b.length === 4 + VALUE_512K.length + STAT_BYTES && b.readInt32BE(0) === VALUE_512K.length ? 0 : ClientError.BadReply);
const hasChildren: Check = (b) => (b.length >= 4 && b.readInt32BE(0) === CHILDREN ? 0 : ClientError.BadReply);
const createdPath: Check = (b) => (b.length >= 4 && b.readInt32BE(0) > 0 ? 0 : ClientError.BadReply);

/**
 * Checks a multi reply without decoding it into objects (the generator must stay cheap):
 * `expected` results, each of a known type with a well-formed body, none an error.
 */
const multiOkOf = (expected: number): Check => (b) => {
  let off = 0;
  let count = 0;
  const need = (n: number): boolean => off + n <= b.length;
  for (;;) {
    if (!need(9)) return ClientError.BadReply;
    const type = b.readInt32BE(off);
    const done = b[off + 4] !== 0;
    off += 9;
    if (done) return count === expected && off === b.length ? 0 : ClientError.BadReply;
    count++;
    switch (type) {
      case OpCode.create:
      case OpCode.create2: {
        if (!need(4)) return ClientError.BadReply;
        const len = b.readInt32BE(off);
        off += 4 + Math.max(0, len) + (type === OpCode.create2 ? STAT_BYTES : 0);
        break;
      }
      case OpCode.setData:
        off += STAT_BYTES;
        break;
      case OpCode.delete:
      case OpCode.check:
        break;
      case OpCode.error: {
        if (!need(4)) return ClientError.BadReply;
        const err = b.readInt32BE(off);
        if (err !== 0) return err;
        off += 4;
        break;
      }
      default:
        return ClientError.BadReply;
    }
    if (off > b.length) return ClientError.BadReply;
  }
};
const multiOk = multiOkOf(10);

// ---- the big fill (memory, recovery) -------------------------------------------------------

/**
 * How the memory and recovery workloads fill their tree: `znodes` znodes of 100 B, created by
 * multis of `batch` creates each (pipelined), spread over parents of `FILL_CHILDREN` children
 * (/bench/mem/p-<i>/c-<j>) so that no child list is huge. Fill unit u (one multi) creates the
 * znodes u·batch .. min(znodes, (u+1)·batch) − 1; znode k is child k mod FILL_CHILDREN of parent
 * ⌊k / FILL_CHILDREN⌋. The parents are created beforehand (globalSetup) and are not counted.
 */
export interface FillPlan {
  znodes: number;
  batch: number;
}
export const FILL_CHILDREN = 1000;

export function fillParents(plan: FillPlan): number {
  return Math.ceil(plan.znodes / FILL_CHILDREN);
}
export function fillUnits(plan: FillPlan): number {
  return Math.ceil(plan.znodes / plan.batch);
}
export function fillParentPath(i: number): string {
  return `/bench/mem/p-${i}`;
}

function fillGenerator(plan: FillPlan): Generator {
  const checks = new Map<number, Check>();
  return (unit) => {
    const from = unit * plan.batch;
    const to = Math.min(plan.znodes, from + plan.batch);
    const ops: MultiOp[] = [];
    for (let k = from; k < to; k++) {
      ops.push({ type: OpCode.create, req: { path: `${fillParentPath(Math.floor(k / FILL_CHILDREN))}/c-${k % FILL_CHILDREN}`, data: VALUE_100, acl: OPEN_ACL, flags: 0 } });
    }
    let check = checks.get(ops.length);
    if (check === undefined) {
      check = multiOkOf(ops.length);
      checks.set(ops.length, check);
    }
    return { frame: req.multi(ops), check };
  };
}

// ---- tree set-up ---------------------------------------------------------------------------

/** Creates the paths with up to `depth` requests in flight; throws on any error (but NodeExists when `existsOk`). */
export async function createMany(s: LeanSession, paths: string[], data: Buffer, depth = 64, existsOk = false): Promise<void> {
  let next = 0;
  let failed: string | null = null;
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const pump = (): void => {
      while (failed === null && inFlight < depth && next < paths.length) {
        const p = paths[next++] as string;
        inFlight++;
        s.send(req.create(p, data), (err) => {
          inFlight--;
          if (err !== 0 && !(existsOk && err === ErrorCode.NodeExists) && failed === null) failed = `create ${p}: error ${err}`;
          if ((next >= paths.length || failed !== null) && inFlight === 0) resolve();
          else pump();
        });
      }
      if (next >= paths.length && inFlight === 0) resolve();
    };
    pump();
  });
  if (failed !== null) throw new Error(failed);
}

/** The part of the tree every run of a workload needs, created before the load starts. */
export async function globalSetup(s: LeanSession, workload: string, fill?: FillPlan): Promise<void> {
  // An ensemble runs several workloads on one tree: its fixed nodes may be there already.
  await createMany(s, ['/bench'], Buffer.alloc(0), 1, true);
  switch (baseOf(workload)) {
    case 'getData':
    case 'exists':
    case 'mix':
    case 'nzkGetData':
      await createMany(s, ['/bench/data'], VALUE_1K, 1, true);
      break;
    case 'getData512k':
      await createMany(s, ['/bench/big'], VALUE_512K, 1, true);
      break;
    case 'getChildren':
      await createMany(s, ['/bench/kids'], Buffer.alloc(0), 1, true);
      await createMany(s, Array.from({ length: CHILDREN }, (_, i) => `/bench/kids/child-${String(i).padStart(4, '0')}`), VALUE_100, 64);
      break;
    case 'setData':
    case 'setData512k':
    case 'nzkSetData':
      await createMany(s, ['/bench/set'], Buffer.alloc(0), 1, true);
      break;
    case 'createDelete':
      await createMany(s, ['/bench/cd'], Buffer.alloc(0), 1, true);
      break;
    case 'multi':
      await createMany(s, ['/bench/multi'], Buffer.alloc(0), 1, true);
      break;
    case 'churn':
      await createMany(s, ['/bench/eph'], Buffer.alloc(0), 1, true);
      break;
    case 'memory':
    case 'recovery':
      await createMany(s, ['/bench/mem'], Buffer.alloc(0), 1, true);
      if (fill !== undefined) await createMany(s, Array.from({ length: fillParents(fill) }, (_, i) => fillParentPath(i)), Buffer.alloc(0), 64);
      break;
    case 'fanout':
      await createMany(s, ['/bench/fan'], VALUE_100, 1, true);
      break;
    default:
      break;
  }
}

/** Per-session set-up run by a load worker before the clock starts. */
export async function sessionSetup(s: LeanSession, workload: string, id: string): Promise<void> {
  const base = baseOf(workload);
  if (base === 'setData') await createMany(s, [`/bench/set/s-${id}`], VALUE_1K, 1);
  if (base === 'setData512k') await createMany(s, [`/bench/set/s-${id}`], VALUE_512K, 1);
}

/**
 * The request stream of one session of a closed-loop workload. `id` is unique per session.
 * For memory and recovery (`fill` given) the argument is the fill unit, not the session's seq.
 */
/** A stream that sends the same request every time. */
function fixed(frame: Buffer, check: Check): Generator {
  const r: Req = { frame, check };
  return () => r;
}

export function generator(workload: string, id: string, fill?: FillPlan): Generator {
  switch (baseOf(workload)) {
    case 'getData':
      return fixed(req.getData('/bench/data'), isData1k);
    case 'exists':
      return fixed(req.exists('/bench/data'), isStat);
    case 'getChildren':
      return fixed(req.getChildren('/bench/kids'), hasChildren);
    case 'setData':
      return fixed(req.setData(`/bench/set/s-${id}`, VALUE_1K), isStat);
    case 'getData512k':
      return fixed(req.getData('/bench/big'), isData512k);
    case 'setData512k':
      return fixed(req.setData(`/bench/set/s-${id}`, VALUE_512K), isStat);
    case 'createDelete': {
      // One path per session, created and deleted in turn: the server applies a session's
      // requests in order, so each create finds the path free. Fixed frames keep the client cheap.
      const p = `/bench/cd/n-${id}`;
      const create: Req = { frame: req.create(p, VALUE_100), check: createdPath };
      const del: Req = { frame: req.delete(p), check: ok };
      return (seq) => (seq % 2 === 0 ? create : del);
    }
    case 'mix': {
      const read: Req = { frame: req.getData('/bench/data'), check: isData1k };
      const write: Req = { frame: req.setData('/bench/data', VALUE_1K), check: isStat };
      return (seq) => (seq % 10 === 9 ? write : read);
    }
    case 'multi': {
      // Each multi creates and deletes the same 5 nodes, so every request of a session can be one frame.
      const ops: MultiOp[] = [];
      for (let k = 0; k < 5; k++) ops.push({ type: OpCode.create, req: { path: `/bench/multi/m-${id}-${k}`, data: VALUE_100, acl: OPEN_ACL, flags: 0 } });
      for (let k = 0; k < 5; k++) ops.push({ type: OpCode.delete, req: { path: `/bench/multi/m-${id}-${k}`, version: -1 } });
      return fixed(req.multi(ops), multiOk);
    }
    case 'memory':
    case 'recovery':
      if (fill === undefined) throw new Error(`workload ${workload} needs a fill plan`);
      return fillGenerator(fill);
    default:
      throw new Error(`workload ${workload} has no request stream`);
  }
}

export const checks = { createdPath, isData1k, isStat, ok };
