// Loads the frames captured from real ZooKeeper (compat/capture/capture-golden.ts) and
// decodes/encodes them through wire/ by the record names each fixture lists.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AddWatchRequest,
  AuthPacket,
  CheckWatchesRequest,
  ConnectRequest,
  ConnectResponse,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteContainerRequest,
  DeleteRequest,
  ErrorResponse,
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
  GetSASLRequest,
  JuteReader,
  JuteWriter,
  ReconfigRequest,
  RemoveWatchesRequest,
  ReplyHeader,
  RequestHeader,
  SetACLRequest,
  SetACLResponse,
  SetDataRequest,
  SetDataResponse,
  SetSASLResponse,
  SetWatches,
  SetWatches2,
  SyncRequest,
  SyncResponse,
  WatcherEvent,
  WhoAmIResponse,
  readMultiRequest,
  readMultiResponse,
  writeMultiRequest,
  writeMultiResponse,
} from '../../wire/index.js';
import type { MultiOp, MultiResult } from '../../wire/index.js';

export interface GoldenFrame {
  name: string;
  direction: 'c2s' | 's2c';
  record: string;
  hex: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/test/wire -> test/fixtures/golden in the source tree. */
export const GOLDEN_PATH = path.resolve(here, '../../../test/fixtures/golden/zookeeper-3.8.0.json');

export function loadGolden(): GoldenFrame[] {
  const parsed: unknown = JSON.parse(fs.readFileSync(GOLDEN_PATH, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${GOLDEN_PATH}: not a list`);
  return parsed.map((e: unknown, i) => {
    const f = e as Partial<GoldenFrame>;
    if (typeof f.name !== 'string' || typeof f.record !== 'string' || typeof f.hex !== 'string' || (f.direction !== 'c2s' && f.direction !== 's2c')) {
      throw new Error(`${GOLDEN_PATH}: entry ${i} is malformed`);
    }
    return { name: f.name, direction: f.direction, record: f.record, hex: f.hex };
  });
}

/** A codec for one part of a frame, with values kept as unknown (the round-trip needs no types). */
export interface PartCodec {
  read(r: JuteReader): unknown;
  write(w: JuteWriter, v: unknown): void;
}

function codec<T>(t: { read(r: JuteReader): T; write(w: JuteWriter, v: T): void }): PartCodec {
  return { read: (r) => t.read(r), write: (w, v) => t.write(w, v as T) };
}

export const CODECS: Readonly<Record<string, PartCodec>> = {
  ConnectRequest: codec(ConnectRequest),
  ConnectResponse: codec(ConnectResponse),
  RequestHeader: codec(RequestHeader),
  ReplyHeader: codec(ReplyHeader),
  WatcherEvent: codec(WatcherEvent),
  AuthPacket: codec(AuthPacket),
  CreateRequest: codec(CreateRequest),
  CreateTTLRequest: codec(CreateTTLRequest),
  CreateResponse: codec(CreateResponse),
  Create2Response: codec(Create2Response),
  DeleteRequest: codec(DeleteRequest),
  ExistsRequest: codec(ExistsRequest),
  ExistsResponse: codec(ExistsResponse),
  GetDataRequest: codec(GetDataRequest),
  GetDataResponse: codec(GetDataResponse),
  SetDataRequest: codec(SetDataRequest),
  SetDataResponse: codec(SetDataResponse),
  GetACLRequest: codec(GetACLRequest),
  GetACLResponse: codec(GetACLResponse),
  SetACLRequest: codec(SetACLRequest),
  SetACLResponse: codec(SetACLResponse),
  GetChildrenRequest: codec(GetChildrenRequest),
  GetChildrenResponse: codec(GetChildrenResponse),
  GetChildren2Request: codec(GetChildren2Request),
  GetChildren2Response: codec(GetChildren2Response),
  SyncRequest: codec(SyncRequest),
  SyncResponse: codec(SyncResponse),
  ErrorResponse: codec(ErrorResponse),
  CheckWatchesRequest: codec(CheckWatchesRequest),
  RemoveWatchesRequest: codec(RemoveWatchesRequest),
  DeleteContainerRequest: codec(DeleteContainerRequest),
  GetEphemeralsRequest: codec(GetEphemeralsRequest),
  GetEphemeralsResponse: codec(GetEphemeralsResponse),
  GetAllChildrenNumberRequest: codec(GetAllChildrenNumberRequest),
  GetAllChildrenNumberResponse: codec(GetAllChildrenNumberResponse),
  SetWatches: codec(SetWatches),
  SetWatches2: codec(SetWatches2),
  AddWatchRequest: codec(AddWatchRequest),
  WhoAmIResponse: codec(WhoAmIResponse),
  GetSASLRequest: codec(GetSASLRequest),
  SetSASLResponse: codec(SetSASLResponse),
  ReconfigRequest: codec(ReconfigRequest),
  MultiRequest: {
    read: (r) => readMultiRequest(r),
    write: (w, v) => writeMultiRequest(w, v as MultiOp[]),
  },
  MultiResponse: {
    read: (r) => readMultiResponse(r),
    write: (w, v) => writeMultiResponse(w, v as MultiResult[]),
  },
};

export function partCodecs(f: GoldenFrame): PartCodec[] {
  return f.record.split('+').map((name) => {
    const c = CODECS[name];
    if (c === undefined) throw new Error(`fixture ${f.name}: no codec for record ${name}`);
    return c;
  });
}

/** Decodes every part of the frame; the whole frame must be consumed. */
export function decodeFrame(f: GoldenFrame): unknown[] {
  const r = new JuteReader(Buffer.from(f.hex, 'hex'));
  const parts = partCodecs(f).map((c) => c.read(r));
  r.expectEnd(f.record);
  return parts;
}

export function encodeFrame(f: GoldenFrame, parts: readonly unknown[]): Buffer {
  const w = new JuteWriter(64);
  partCodecs(f).forEach((c, i) => c.write(w, parts[i]));
  return w.toBuffer();
}
