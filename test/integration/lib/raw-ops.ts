// Typed one-liners over compat/raw-client.ts for integration tests: one function per opcode,
// each returning the reply's error code plus the decoded body on success. Used for the
// opcodes node-zookeeper-client does not have and wherever a test needs exact wire values
// (null data, zxids, multi result types).
import { createHash } from 'node:crypto';
import { RawClient } from '../../../compat/raw-client.js';
import type { RawConnectOptions, RawReply } from '../../../compat/raw-client.js';
import {
  AddWatchRequest,
  AuthPacket,
  CheckWatchesRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  ExistsResponse,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetAllChildrenNumberResponse,
  GetChildren2Request,
  GetChildren2Response,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  JuteReader,
  OpCode,
  RemoveWatchesRequest,
  SetACLRequest,
  SetACLResponse,
  SetDataRequest,
  SetDataResponse,
  SetWatches,
  SetWatches2,
  SyncRequest,
  SyncResponse,
  WhoAmIResponse,
  Xid,
  readMultiResponse,
  writeMultiRequest,
} from '../../../wire/index.js';
import type { ACL, MultiOp, MultiResult, Stat } from '../../../wire/index.js';

export { RawClient };
export type { ACL, MultiOp, MultiResult, Stat };

export interface Endpoint {
  host: string;
  port: number;
}

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: 31, id: { scheme: 'auth', id: '' } }];

export function rawConnect(target: Endpoint, opts: Partial<Omit<RawConnectOptions, 'host' | 'port'>> = {}): Promise<RawClient> {
  return RawClient.connect({ host: target.host, port: target.port, timeOutMs: 10000, ...opts });
}

/** Runs fn with a raw session and always ends it (closeSession if still connected). */
export async function withRaw<T>(target: Endpoint, fn: (c: RawClient) => Promise<T>, opts: Partial<Omit<RawConnectOptions, 'host' | 'port'>> = {}): Promise<T> {
  const c = await rawConnect(target, opts);
  try {
    return await fn(c);
  } finally {
    await c.close().catch(() => c.socket.destroy());
  }
}

export interface Result<T> {
  err: number;
  zxid: bigint;
  /** Decoded body; null when err != 0. */
  res: T | null;
}

function decode<T>(reply: RawReply, read: (r: JuteReader) => T): Result<T> {
  if (reply.err !== 0) return { err: reply.err, zxid: reply.zxid, res: null };
  return { err: 0, zxid: reply.zxid, res: read(new JuteReader(reply.body)) };
}

export interface CreateOpts {
  data?: Buffer | null;
  flags?: number;
  /** null sends a null ACL vector (length -1). */
  acl?: ACL[] | null;
  /** 1 create, 15 create2, 19 createContainer, 21 createTTL. */
  op?: number;
  ttl?: bigint;
}

export interface Created {
  path: string;
  /** Present for create2/createContainer/createTTL. */
  stat: Stat | null;
}

export async function create(c: RawClient, path: string, o: CreateOpts = {}): Promise<Result<Created>> {
  const op = o.op ?? OpCode.create2;
  const base = { path, data: o.data === undefined ? Buffer.alloc(0) : o.data, acl: o.acl === undefined ? OPEN_ACL : o.acl, flags: o.flags ?? 0 };
  const reply =
    op === OpCode.createTTL
      ? await c.request(op, (w) => CreateTTLRequest.write(w, { ...base, ttl: o.ttl ?? 60000n }))
      : await c.request(op, (w) => CreateRequest.write(w, base));
  return decode(reply, (r) => {
    if (op === OpCode.create) return { path: CreateResponse.read(r).path, stat: null };
    const v = Create2Response.read(r);
    return { path: v.path, stat: v.stat };
  });
}

export async function remove(c: RawClient, path: string, version = -1): Promise<Result<null>> {
  return decode(await c.request(OpCode.delete, (w) => DeleteRequest.write(w, { path, version })), () => null);
}

export async function exists(c: RawClient, path: string, watch = false): Promise<Result<Stat>> {
  return decode(await c.request(OpCode.exists, (w) => ExistsRequest.write(w, { path, watch })), (r) => ExistsResponse.read(r).stat);
}

export async function getData(c: RawClient, path: string, watch = false): Promise<Result<{ data: Buffer | null; stat: Stat }>> {
  return decode(await c.request(OpCode.getData, (w) => GetDataRequest.write(w, { path, watch })), (r) => GetDataResponse.read(r));
}

export async function setData(c: RawClient, path: string, data: Buffer | null, version = -1): Promise<Result<Stat>> {
  return decode(await c.request(OpCode.setData, (w) => SetDataRequest.write(w, { path, data, version })), (r) => SetDataResponse.read(r).stat);
}

export async function getChildren(c: RawClient, path: string, watch = false): Promise<Result<string[]>> {
  return decode(await c.request(OpCode.getChildren, (w) => GetChildrenRequest.write(w, { path, watch })), (r) => GetChildrenResponse.read(r).children);
}

export async function getChildren2(c: RawClient, path: string, watch = false): Promise<Result<{ children: string[]; stat: Stat }>> {
  return decode(await c.request(OpCode.getChildren2, (w) => GetChildren2Request.write(w, { path, watch })), (r) => GetChildren2Response.read(r));
}

export async function getACL(c: RawClient, path: string): Promise<Result<{ acl: ACL[]; stat: Stat }>> {
  return decode(await c.request(OpCode.getACL, (w) => GetACLRequest.write(w, { path })), (r) => GetACLResponse.read(r));
}

export async function setACL(c: RawClient, path: string, acl: ACL[] | null, version = -1): Promise<Result<Stat>> {
  return decode(await c.request(OpCode.setACL, (w) => SetACLRequest.write(w, { path, acl, version })), (r) => SetACLResponse.read(r).stat);
}

export async function sync(c: RawClient, path: string): Promise<Result<string>> {
  return decode(await c.request(OpCode.sync, (w) => SyncRequest.write(w, { path })), (r) => SyncResponse.read(r).path);
}

export async function multi(c: RawClient, ops: readonly MultiOp[], type: number = OpCode.multi): Promise<Result<MultiResult[]>> {
  return decode(await c.request(type, (w) => writeMultiRequest(w, ops)), (r) => readMultiResponse(r));
}

export function multiRead(c: RawClient, ops: readonly MultiOp[]): Promise<Result<MultiResult[]>> {
  return multi(c, ops, OpCode.multiRead);
}

export async function getEphemerals(c: RawClient, prefixPath: string): Promise<Result<string[]>> {
  return decode(await c.request(OpCode.getEphemerals, (w) => GetEphemeralsRequest.write(w, { prefixPath })), (r) => GetEphemeralsResponse.read(r).ephemerals);
}

export async function getAllChildrenNumber(c: RawClient, path: string): Promise<Result<number>> {
  return decode(
    await c.request(OpCode.getAllChildrenNumber, (w) => GetAllChildrenNumberRequest.write(w, { path })),
    (r) => GetAllChildrenNumberResponse.read(r).totalNumber,
  );
}

/** addWatch: mode 0 persistent, 1 persistent recursive. Success body is a 4-byte ErrorResponse{0}. */
export async function addWatch(c: RawClient, path: string, mode: number): Promise<Result<Buffer>> {
  const reply = await c.request(OpCode.addWatch, (w) => AddWatchRequest.write(w, { path, mode }));
  return { err: reply.err, zxid: reply.zxid, res: reply.err === 0 ? Buffer.from(reply.body) : null };
}

export async function removeWatches(c: RawClient, path: string, type: number): Promise<Result<null>> {
  return decode(await c.request(OpCode.removeWatches, (w) => RemoveWatchesRequest.write(w, { path, type })), () => null);
}

export async function checkWatches(c: RawClient, path: string, type: number): Promise<Result<null>> {
  return decode(await c.request(OpCode.checkWatches, (w) => CheckWatchesRequest.write(w, { path, type })), () => null);
}

export async function setWatches(c: RawClient, v: SetWatches): Promise<Result<null>> {
  return decode(await c.request(OpCode.setWatches, (w) => SetWatches.write(w, v), Xid.SetWatches), () => null);
}

export async function setWatches2(c: RawClient, v: SetWatches2): Promise<Result<null>> {
  return decode(await c.request(OpCode.setWatches2, (w) => SetWatches2.write(w, v), Xid.SetWatches), () => null);
}

export async function whoAmI(c: RawClient): Promise<Result<Array<{ authScheme: string; user: string }>>> {
  return decode(await c.request(OpCode.whoAmI), (r) => WhoAmIResponse.read(r).clientInfo);
}

/** AuthPacket (xid -4): 0 on success; -115 AuthFailed and the server closes the connection. */
export async function addAuth(c: RawClient, scheme: string, auth: string): Promise<number> {
  const reply = await c.request(OpCode.auth, (w) => AuthPacket.write(w, { type: 0, scheme, auth: Buffer.from(auth) }), Xid.Auth);
  return reply.err;
}

/** The digest ACL id ZooKeeper derives from "user:password": user:base64(sha1(user:password)). */
export function digestId(userPassword: string): string {
  const user = userPassword.slice(0, userPassword.indexOf(':'));
  return `${user}:${createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}
