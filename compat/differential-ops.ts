// Step builders for the differential scenarios: one per ZooKeeper operation, each a thin
// wrapper over request() that writes the request record and decodes the response record.
import {
  ACL as AclRecord,
  AddWatchRequest,
  AuthPacket,
  CheckWatchesRequest,
  ClientInfo,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  OpCode,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  Stat,
  SyncRequest,
  Xid,
  readMultiResponse,
  writeMultiRequest,
} from '../wire/index.js';
import type { ACL, JuteReader, MultiOp, MultiResult } from '../wire/index.js';
import { request, tagStat } from './differential.js';
import type { Observation, Step } from './differential.js';

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

/** digest id for user:password, as DigestAuthenticationProvider computes it (ZOOKEEPER.md §7). */
export function digestAcl(user: string, digest: string, perms = 31): ACL {
  return { perms, id: { scheme: 'digest', id: `${user}:${digest}` } };
}

const text = (s: string | null): Buffer | null => (s === null ? null : Buffer.from(s, 'utf8'));

function readStat(r: JuteReader): Observation {
  return tagStat(Stat.read(r));
}

function readStrings(r: JuteReader): string[] {
  const n = r.readVectorLength();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.readUString() ?? '<null>');
  return out;
}

/** Children order is a server HashSet order in ZooKeeper (unspecified): compare sorted. */
function readChildrenSorted(r: JuteReader): string[] {
  return readStrings(r).sort();
}

export interface CreateOpts {
  data?: string | null;
  flags?: number;
  acl?: ACL[] | null;
  /** 1 create, 15 create2, 19 createContainer, 21 createTTL. */
  op?: 1 | 15 | 19 | 21;
  ttl?: bigint;
  label?: string;
}

export function create(as: string, path: string, o: CreateOpts = {}): Step {
  const op = o.op ?? OpCode.create;
  const req = { path, data: text(o.data === undefined ? 'd' : o.data), acl: o.acl === undefined ? OPEN_ACL : o.acl, flags: o.flags ?? 0 };
  return request({
    label: o.label ?? `${as}: ${op === 1 ? 'create' : op === 15 ? 'create2' : op === 19 ? 'createContainer' : 'createTTL'} ${JSON.stringify(path)} flags ${req.flags}`,
    as,
    op,
    write: true,
    body: (w) => (op === OpCode.createTTL ? CreateTTLRequest.write(w, { ...req, ttl: o.ttl ?? 60000n }) : CreateRequest.write(w, req)),
    decode: (r) => (op === OpCode.create ? { path: r.readUString() } : { path: r.readUString(), stat: readStat(r) }),
  });
}

export function del(as: string, path: string, version = -1): Step {
  return request({ label: `${as}: delete ${JSON.stringify(path)} v${version}`, as, op: OpCode.delete, write: true, body: (w) => DeleteRequest.write(w, { path, version }) });
}

export function exists(as: string, path: string, watch = false): Step {
  return request({ label: `${as}: exists ${JSON.stringify(path)}${watch ? ' watch' : ''}`, as, op: OpCode.exists, body: (w) => ExistsRequest.write(w, { path, watch }), decode: readStat });
}

export function getData(as: string, path: string, watch = false): Step {
  return request({
    label: `${as}: getData ${JSON.stringify(path)}${watch ? ' watch' : ''}`,
    as,
    op: OpCode.getData,
    body: (w) => GetDataRequest.write(w, { path, watch }),
    decode: (r) => ({ data: r.readBuffer(), stat: readStat(r) }),
  });
}

export function setData(as: string, path: string, data: string | null, version = -1): Step {
  return request({
    label: `${as}: setData ${JSON.stringify(path)} v${version}`,
    as,
    op: OpCode.setData,
    write: true,
    body: (w) => SetDataRequest.write(w, { path, data: text(data), version }),
    decode: readStat,
  });
}

export function getACL(as: string, path: string): Step {
  return request({
    label: `${as}: getACL ${JSON.stringify(path)}`,
    as,
    op: OpCode.getACL,
    body: (w) => GetACLRequest.write(w, { path }),
    decode: (r) => {
      const n = r.readVectorLength();
      const acl: ACL[] = [];
      for (let i = 0; i < n; i++) acl.push(AclRecord.read(r));
      return { acl, stat: readStat(r) };
    },
  });
}

export function setACL(as: string, path: string, acl: ACL[] | null, version = -1): Step {
  return request({
    label: `${as}: setACL ${JSON.stringify(path)} v${version}`,
    as,
    op: OpCode.setACL,
    write: true,
    body: (w) => SetACLRequest.write(w, { path, acl, version }),
    decode: readStat,
  });
}

export function getChildren(as: string, path: string, watch = false): Step {
  return request({ label: `${as}: getChildren ${JSON.stringify(path)}${watch ? ' watch' : ''}`, as, op: OpCode.getChildren, body: (w) => GetChildrenRequest.write(w, { path, watch }), decode: readChildrenSorted });
}

export function getChildren2(as: string, path: string, watch = false): Step {
  return request({
    label: `${as}: getChildren2 ${JSON.stringify(path)}${watch ? ' watch' : ''}`,
    as,
    op: OpCode.getChildren2,
    body: (w) => GetChildren2Request.write(w, { path, watch }),
    decode: (r) => ({ children: readChildrenSorted(r), stat: readStat(r) }),
  });
}

export function sync(as: string, path: string): Step {
  return request({ label: `${as}: sync ${JSON.stringify(path)}`, as, op: OpCode.sync, body: (w) => SyncRequest.write(w, { path }), decode: (r) => r.readUString() });
}

function multiResultObs(res: MultiResult): Observation {
  switch (res.type) {
    case OpCode.create2:
      return { type: res.type, path: res.path, stat: tagStat(res.stat) };
    case OpCode.setData:
      return { type: res.type, stat: tagStat(res.stat) };
    case OpCode.getData:
      return { type: res.type, data: res.data, stat: tagStat(res.stat) };
    case OpCode.getChildren:
      return { type: res.type, children: [...res.children].sort() };
    default:
      return res;
  }
}

/** multi (14) or multiRead (22); the observation keeps the op types so allowed differences can see them. */
export function multi(as: string, ops: MultiOp[], label = '', op: 14 | 22 = OpCode.multi): Step {
  const types = ops.map((o) => o.type);
  return request({
    label: `${as}: ${op === OpCode.multi ? 'multi' : 'multiRead'} [${types.join(',')}] ${label}`.trimEnd(),
    as,
    op,
    write: op === OpCode.multi,
    body: (w) => writeMultiRequest(w, ops),
    decode: (r) => ({ opTypes: types, results: readMultiResponse(r).map(multiResultObs) }),
    succeeded: (res) => {
      const results = (res as { results?: unknown } | undefined)?.results;
      return Array.isArray(results) && results.every((x) => (x as { type?: unknown }).type !== OpCode.error);
    },
  });
}

export function multiRead(as: string, ops: MultiOp[], label = ''): Step {
  return multi(as, ops, label, OpCode.multiRead);
}

export function getEphemerals(as: string, prefixPath: string): Step {
  return request({
    label: `${as}: getEphemerals ${JSON.stringify(prefixPath)}`,
    as,
    op: OpCode.getEphemerals,
    body: (w) => GetEphemeralsRequest.write(w, { prefixPath }),
    decode: (r) => readStrings(r).sort(),
  });
}

export function getAllChildrenNumber(as: string, path: string): Step {
  return request({ label: `${as}: getAllChildrenNumber ${JSON.stringify(path)}`, as, op: OpCode.getAllChildrenNumber, body: (w) => GetAllChildrenNumberRequest.write(w, { path }), decode: (r) => r.readInt() });
}

export function addWatch(as: string, path: string, mode: 0 | 1): Step {
  return request({ label: `${as}: addWatch ${JSON.stringify(path)} mode ${mode}`, as, op: OpCode.addWatch, body: (w) => AddWatchRequest.write(w, { path, mode }), decode: (r) => ({ err: r.readInt() }) });
}

export function removeWatches(as: string, path: string, type: number): Step {
  return request({ label: `${as}: removeWatches ${JSON.stringify(path)} type ${type}`, as, op: OpCode.removeWatches, body: (w) => RemoveWatchesRequest.write(w, { path, type }) });
}

export function checkWatches(as: string, path: string, type: number): Step {
  return request({ label: `${as}: checkWatches ${JSON.stringify(path)} type ${type}`, as, op: OpCode.checkWatches, body: (w) => CheckWatchesRequest.write(w, { path, type }) });
}

export function auth(as: string, scheme: string, credentials: string): Step {
  return request({
    label: `${as}: auth ${scheme} ${credentials}`,
    as,
    op: OpCode.auth,
    xid: Xid.Auth,
    body: (w) => AuthPacket.write(w, { type: 0, scheme, auth: Buffer.from(credentials, 'utf8') }),
  });
}

export function whoAmI(as: string): Step {
  return request({
    label: `${as}: whoAmI`,
    as,
    op: OpCode.whoAmI,
    decode: (r) => {
      const n = r.readVectorLength();
      const out: Array<{ authScheme: string; user: string }> = [];
      for (let i = 0; i < n; i++) out.push(ClientInfo.read(r));
      // ZooKeeper keeps a connection's auth ids in a hash set: the order is unspecified
      // (observed on 3.8.0: [digest, ip] for one connection, [ip, digest] for another).
      return out.sort((x, y) => `${x.authScheme}\0${x.user}`.localeCompare(`${y.authScheme}\0${y.user}`));
    },
  });
}

export function ping(as: string): Step {
  return request({ label: `${as}: ping`, as, op: OpCode.ping, xid: Xid.Ping });
}

/** Any opcode with no body (unknown opcodes: -6 then the server closes). */
export function rawOp(as: string, op: number, closes: boolean): Step {
  return request({ label: `${as}: opcode ${op}`, as, op, closes });
}
