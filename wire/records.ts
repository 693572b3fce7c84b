// The records of the ZooKeeper 3.8 client protocol, field for field in zookeeper.jute order.
import { bool, buffer, int, list, long, path, record, ustring, vector } from './schema.js';
import type { RecordValue } from './schema.js';
import { JuteReader, JuteWriter } from './jute.js';

export const Id = record('Id', { scheme: path, id: path });
export type Id = ReturnType<typeof Id.decode>;

export const ACL = record('ACL', { perms: int, id: Id });
export type ACL = ReturnType<typeof ACL.decode>;

export const Stat = record('Stat', {
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: long,
});
export type Stat = ReturnType<typeof Stat.decode>;

/** Stat with its zxids and times as safe integers: what the server keeps, encoded without BigInt. */
export interface StatNumbers {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}

/** Same bytes as Stat.write, field for field. */
export function writeStatNumbers(w: JuteWriter, s: StatNumbers): void {
  w.writeLongNumber(s.czxid);
  w.writeLongNumber(s.mzxid);
  w.writeLongNumber(s.ctime);
  w.writeLongNumber(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner);
  w.writeInt(s.dataLength);
  w.writeInt(s.numChildren);
  w.writeLongNumber(s.pzxid);
}

/** Either form of a Stat. */
export function writeAnyStat(w: JuteWriter, s: Stat | StatNumbers): void {
  if (typeof s.czxid === 'bigint') Stat.write(w, s as Stat);
  else writeStatNumbers(w, s as StatNumbers);
}

export const RequestHeader = record('RequestHeader', { xid: int, type: int });
export type RequestHeader = ReturnType<typeof RequestHeader.decode>;
export const ReplyHeader = record('ReplyHeader', { xid: int, zxid: long, err: int });
export type ReplyHeader = ReturnType<typeof ReplyHeader.decode>;

export const WatcherEvent = record('WatcherEvent', { type: int, state: int, path: path });
export type WatcherEvent = ReturnType<typeof WatcherEvent.decode>;

export const AuthPacket = record('AuthPacket', { type: int, scheme: path, auth: buffer });
export type AuthPacket = ReturnType<typeof AuthPacket.decode>;

const aclList = vector(ACL);

export const CreateRequest = record('CreateRequest', { path, data: buffer, acl: aclList, flags: int });
export type CreateRequest = ReturnType<typeof CreateRequest.decode>;
export const CreateTTLRequest = record('CreateTTLRequest', { path, data: buffer, acl: aclList, flags: int, ttl: long });
export type CreateTTLRequest = ReturnType<typeof CreateTTLRequest.decode>;
export const CreateResponse = record('CreateResponse', { path });
export const Create2Response = record('Create2Response', { path, stat: Stat });

export const DeleteRequest = record('DeleteRequest', { path, version: int });
export type DeleteRequest = ReturnType<typeof DeleteRequest.decode>;
export const ExistsRequest = record('ExistsRequest', { path, watch: bool });
export const ExistsResponse = record('ExistsResponse', { stat: Stat });
export const GetDataRequest = record('GetDataRequest', { path, watch: bool });
export const GetDataResponse = record('GetDataResponse', { data: buffer, stat: Stat });
export const SetDataRequest = record('SetDataRequest', { path, data: buffer, version: int });
export type SetDataRequest = ReturnType<typeof SetDataRequest.decode>;
export const SetDataResponse = record('SetDataResponse', { stat: Stat });
export const GetACLRequest = record('GetACLRequest', { path });
export const GetACLResponse = record('GetACLResponse', { acl: list(ACL), stat: Stat });
export const SetACLRequest = record('SetACLRequest', { path, acl: aclList, version: int });
export type SetACLRequest = ReturnType<typeof SetACLRequest.decode>;
export const SetACLResponse = record('SetACLResponse', { stat: Stat });
export const GetChildrenRequest = record('GetChildrenRequest', { path, watch: bool });
export const GetChildrenResponse = record('GetChildrenResponse', { children: list(path) });
export const GetChildren2Request = record('GetChildren2Request', { path, watch: bool });
export const GetChildren2Response = record('GetChildren2Response', { children: list(path), stat: Stat });
export const SyncRequest = record('SyncRequest', { path });
export const SyncResponse = record('SyncResponse', { path });
export const CheckVersionRequest = record('CheckVersionRequest', { path, version: int });
export type CheckVersionRequest = ReturnType<typeof CheckVersionRequest.decode>;
export const MultiHeader = record('MultiHeader', { type: int, done: bool, err: int });
export type MultiHeader = ReturnType<typeof MultiHeader.decode>;
export const ErrorResponse = record('ErrorResponse', { err: int });
export const CheckWatchesRequest = record('CheckWatchesRequest', { path, type: int });
export const RemoveWatchesRequest = record('RemoveWatchesRequest', { path, type: int });
export const DeleteContainerRequest = record('DeleteContainerRequest', { path });
export const GetEphemeralsRequest = record('GetEphemeralsRequest', { prefixPath: path });
export const GetEphemeralsResponse = record('GetEphemeralsResponse', { ephemerals: list(path) });
export const GetAllChildrenNumberRequest = record('GetAllChildrenNumberRequest', { path });
export const GetAllChildrenNumberResponse = record('GetAllChildrenNumberResponse', { totalNumber: int });
export const SetWatches = record('SetWatches', {
  relativeZxid: long,
  dataWatches: list(path),
  existWatches: list(path),
  childWatches: list(path),
});
export type SetWatches = ReturnType<typeof SetWatches.decode>;
export const SetWatches2 = record('SetWatches2', {
  relativeZxid: long,
  dataWatches: list(path),
  existWatches: list(path),
  childWatches: list(path),
  persistentWatches: list(path),
  persistentRecursiveWatches: list(path),
});
export type SetWatches2 = ReturnType<typeof SetWatches2.decode>;
export const AddWatchRequest = record('AddWatchRequest', { path, mode: int });
export const ClientInfo = record('ClientInfo', { authScheme: path, user: path });
export const WhoAmIResponse = record('WhoAmIResponse', { clientInfo: list(ClientInfo) });
export const GetSASLRequest = record('GetSASLRequest', { token: buffer });
export const SetSASLResponse = record('SetSASLResponse', { token: buffer });
export const ReconfigRequest = record('ReconfigRequest', {
  joiningServers: ustring,
  leavingServers: ustring,
  newMembers: ustring,
  curConfigId: long,
});

// ConnectRequest/ConnectResponse: 3.8 reads and writes the trailing readOnly byte by hand
// ("try to read one more boolean"), and the server mirrors whether the client sent it.
const connectRequestFields = record('ConnectRequest', {
  protocolVersion: int,
  lastZxidSeen: long,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
export type ConnectRequest = RecordValue<{
  protocolVersion: typeof int;
  lastZxidSeen: typeof long;
  timeOut: typeof int;
  sessionId: typeof long;
  passwd: typeof buffer;
}> & { readOnly: boolean | null };

export const ConnectRequest = {
  name: 'ConnectRequest',
  read(r: JuteReader): ConnectRequest {
    const base = connectRequestFields.read(r);
    const readOnly = r.hasMore() ? r.readBool() : null;
    return { ...base, readOnly };
  },
  write(w: JuteWriter, v: ConnectRequest): void {
    connectRequestFields.write(w, v);
    if (v.readOnly !== null) w.writeBool(v.readOnly);
  },
  decode(buf: Buffer): ConnectRequest {
    const r = new JuteReader(buf);
    const v = ConnectRequest.read(r);
    r.expectEnd('ConnectRequest');
    return v;
  },
  encode(v: ConnectRequest): Buffer {
    const w = new JuteWriter(64);
    ConnectRequest.write(w, v);
    return w.toBuffer();
  },
};

const connectResponseFields = record('ConnectResponse', {
  protocolVersion: int,
  timeOut: int,
  sessionId: long,
  passwd: buffer,
});
export type ConnectResponse = ReturnType<typeof connectResponseFields.decode> & { readOnly: boolean | null };

export const ConnectResponse = {
  name: 'ConnectResponse',
  read(r: JuteReader): ConnectResponse {
    const base = connectResponseFields.read(r);
    const readOnly = r.hasMore() ? r.readBool() : null;
    return { ...base, readOnly };
  },
  write(w: JuteWriter, v: ConnectResponse): void {
    connectResponseFields.write(w, v);
    if (v.readOnly !== null) w.writeBool(v.readOnly);
  },
  decode(buf: Buffer): ConnectResponse {
    const r = new JuteReader(buf);
    const v = ConnectResponse.read(r);
    r.expectEnd('ConnectResponse');
    return v;
  },
  encode(v: ConnectResponse): Buffer {
    const w = new JuteWriter(64);
    ConnectResponse.write(w, v);
    return w.toBuffer();
  },
};
