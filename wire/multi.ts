// multi (14) and multiRead (22): a sequence of MultiHeader + op record, ended by
// MultiHeader{-1, true, -1}. Responses repeat the pattern with each op's result record.
import { JuteReader, JuteWriter, JuteError } from './jute.js';
import { OpCode } from './constants.js';
import {
  CheckVersionRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  GetChildrenRequest,
  GetDataRequest,
  MultiHeader,
  SetDataRequest,
  Stat,
  writeAnyStat,
} from './records.js';
import type { StatNumbers } from './records.js';

export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; req: CreateRequest }
  | { type: typeof OpCode.createTTL; req: CreateTTLRequest }
  | { type: typeof OpCode.delete; req: DeleteRequest }
  | { type: typeof OpCode.setData; req: SetDataRequest }
  | { type: typeof OpCode.check; req: CheckVersionRequest }
  | { type: typeof OpCode.getData; req: { path: string; watch: boolean } }
  | { type: typeof OpCode.getChildren; req: { path: string; watch: boolean } };

/** Ops count per multi is bounded by the frame size; each header is 9 bytes. */
export function readMultiRequest(r: JuteReader): MultiOp[] {
  const ops: MultiOp[] = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) return ops;
    switch (h.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        ops.push({ type: h.type, req: CreateRequest.read(r) });
        break;
      case OpCode.createTTL:
        ops.push({ type: h.type, req: CreateTTLRequest.read(r) });
        break;
      case OpCode.delete:
        ops.push({ type: h.type, req: DeleteRequest.read(r) });
        break;
      case OpCode.setData:
        ops.push({ type: h.type, req: SetDataRequest.read(r) });
        break;
      case OpCode.check:
        ops.push({ type: h.type, req: CheckVersionRequest.read(r) });
        break;
      case OpCode.getData:
        ops.push({ type: h.type, req: GetDataRequest.read(r) });
        break;
      case OpCode.getChildren:
        ops.push({ type: h.type, req: GetChildrenRequest.read(r) });
        break;
      default:
        throw new JuteError('JUTE_BAD_VALUE', `op type ${h.type} is not allowed in multi`);
    }
  }
}

export function writeMultiRequest(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    MultiHeader.write(w, { type: op.type, done: false, err: -1 });
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        CreateRequest.write(w, op.req);
        break;
      case OpCode.createTTL:
        CreateTTLRequest.write(w, op.req);
        break;
      case OpCode.delete:
        DeleteRequest.write(w, op.req);
        break;
      case OpCode.setData:
        SetDataRequest.write(w, op.req);
        break;
      case OpCode.check:
        CheckVersionRequest.write(w, op.req);
        break;
      case OpCode.getData:
        GetDataRequest.write(w, op.req);
        break;
      case OpCode.getChildren:
        GetChildrenRequest.write(w, op.req);
        break;
    }
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
}

/** One result of a multi or multiRead reply; S is the Stat form (decoded: Stat). */
export type MultiResultOf<S> =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: S }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: S }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: S }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.error; err: number };

export type MultiResult = MultiResultOf<Stat>;
/** What the server writes: its Stat may be kept as numbers. */
export type MultiResultOut = MultiResultOf<Stat | StatNumbers>;

export function writeMultiResponse(w: JuteWriter, results: readonly MultiResultOut[]): void {
  for (const res of results) {
    const err = res.type === OpCode.error ? res.err : 0;
    MultiHeader.write(w, { type: res.type, done: false, err });
    switch (res.type) {
      case OpCode.create:
        w.writeUString(res.path);
        break;
      case OpCode.create2:
        w.writeUString(res.path);
        writeAnyStat(w, res.stat);
        break;
      case OpCode.setData:
        writeAnyStat(w, res.stat);
        break;
      case OpCode.getData:
        w.writeBuffer(res.data);
        writeAnyStat(w, res.stat);
        break;
      case OpCode.getChildren:
        w.writeInt(res.children.length);
        for (const c of res.children) w.writeUString(c);
        break;
      case OpCode.error:
        w.writeInt(res.err);
        break;
      case OpCode.delete:
      case OpCode.check:
        break;
    }
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
}

export function readMultiResponse(r: JuteReader): MultiResult[] {
  const out: MultiResult[] = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) return out;
    switch (h.type) {
      case OpCode.create:
        out.push({ type: h.type, path: r.readUString() ?? '' });
        break;
      case OpCode.create2:
        out.push({ type: h.type, path: r.readUString() ?? '', stat: Stat.read(r) });
        break;
      case OpCode.setData:
        out.push({ type: h.type, stat: Stat.read(r) });
        break;
      case OpCode.getData:
        out.push({ type: h.type, data: r.readBuffer(), stat: Stat.read(r) });
        break;
      case OpCode.getChildren: {
        const n = r.readVectorLength();
        const children: string[] = [];
        for (let i = 0; i < n; i++) children.push(r.readUString() ?? '');
        out.push({ type: h.type, children });
        break;
      }
      case OpCode.error:
        out.push({ type: h.type, err: r.readInt() });
        break;
      case OpCode.delete:
      case OpCode.check:
        out.push({ type: h.type });
        break;
      default:
        throw new JuteError('JUTE_BAD_VALUE', `unknown multi result type ${h.type}`);
    }
  }
}
