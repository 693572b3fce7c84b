// Write-side operations: decode the request into a WriteRequest for prep, and turn the
// applied outcome back into ZooKeeper's response record.
import {
  CheckVersionRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ErrorCode,
  OpCode,
  SetACLRequest,
  SetDataRequest,
  writeStatNumbers,
  readMultiRequest,
  writeMultiRequest,
  writeMultiResponse,
  JuteReader,
  JuteWriter,
} from '../../../wire/index.js';
import type { MultiResultOut } from '../../../wire/index.js';
import type { WriteRequest } from '../../core/prep.js';
import type { OpResult } from '../../core/tree.js';

/** Client opcodes that go through the log. */
export const WRITE_OPCODES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
  OpCode.multi,
]);

/** null: the multi mixes reads into a write (MarshallingError, as ZooKeeper). */
export function decodeWrite(opcode: number, r: JuteReader): WriteRequest | null {
  switch (opcode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { opcode, req: { ...CreateRequest.read(r), ttl: -1n } };
    case OpCode.createTTL:
      return { opcode, req: CreateTTLRequest.read(r) };
    case OpCode.delete:
      return { opcode, req: DeleteRequest.read(r) };
    case OpCode.setData:
      return { opcode, req: SetDataRequest.read(r) };
    case OpCode.setACL:
      return { opcode, req: SetACLRequest.read(r) };
    case OpCode.check:
      return { opcode, req: CheckVersionRequest.read(r) };
    case OpCode.multi: {
      const ops = readMultiRequest(r);
      if (ops.some((op) => op.type === OpCode.getData || op.type === OpCode.getChildren)) return null;
      return { opcode, ops };
    }
    default:
      throw new Error(`opcode ${opcode} is not a write`);
  }
}

export interface WriteReply {
  err: number;
  write?: (w: JuteWriter) => void;
}

export function replyFor(result: OpResult): WriteReply {
  switch (result.kind) {
    case 'error':
      return { err: result.err };
    case 'create': {
      const stat = result.stat;
      if (stat === null) return { err: 0, write: (w) => w.writeUString(result.path) };
      return {
        err: 0,
        write: (w) => {
          w.writeUString(result.path);
          writeStatNumbers(w, stat);
        },
      };
    }
    case 'setData':
    case 'setACL':
      return { err: 0, write: (w) => writeStatNumbers(w, result.stat) };
    case 'delete':
    case 'check':
    case 'session':
      return { err: 0 };
    case 'multi': {
      const results = result.results.map(multiResultOf);
      return { err: ErrorCode.OK, write: (w) => writeMultiResponse(w, results) };
    }
  }
}

function multiResultOf(r: OpResult): MultiResultOut {
  switch (r.kind) {
    case 'create':
      return r.stat === null ? { type: OpCode.create, path: r.path } : { type: OpCode.create2, path: r.path, stat: r.stat };
    case 'setData':
      return { type: OpCode.setData, stat: r.stat };
    case 'delete':
      return { type: OpCode.delete };
    case 'check':
      return { type: OpCode.check };
    case 'error':
      return { type: OpCode.error, err: r.err };
    default:
      return { type: OpCode.error, err: ErrorCode.SystemError };
  }
}

/**
 * The body a follower forwards to the leader for a write: the client's record re-encoded, or for
 * the writes the server makes itself (sessions, containers) a small record of their fields.
 */
export function encodeWriteBody(request: WriteRequest): Buffer {
  const w = new JuteWriter(128);
  switch (request.opcode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      CreateRequest.write(w, request.req);
      break;
    case OpCode.createTTL:
      CreateTTLRequest.write(w, request.req);
      break;
    case OpCode.delete:
      DeleteRequest.write(w, request.req);
      break;
    case OpCode.deleteContainer:
      w.writeUString(request.req.path);
      break;
    case OpCode.setData:
      SetDataRequest.write(w, request.req);
      break;
    case OpCode.setACL:
      SetACLRequest.write(w, request.req);
      break;
    case OpCode.check:
      CheckVersionRequest.write(w, request.req);
      break;
    case OpCode.multi:
      writeMultiRequest(w, request.ops);
      break;
    case OpCode.createSession:
      w.writeLong(request.sessionId);
      w.writeInt(request.timeoutMs);
      w.writeBuffer(request.passwd);
      break;
    case OpCode.closeSession:
      break;
  }
  return w.toBuffer();
}

/** The leader's side of encodeWriteBody; throws (JuteError) on a malformed body. */
export function decodeWriteBody(opcode: number, body: Buffer): WriteRequest | null {
  const r = new JuteReader(body, 0, body.length, 0x7fffffff);
  let request: WriteRequest | null;
  switch (opcode) {
    case OpCode.deleteContainer:
      request = { opcode, req: { path: r.readUString() ?? '' } };
      break;
    case OpCode.createSession:
      request = { opcode, sessionId: r.readLong(), timeoutMs: r.readInt(), passwd: r.readBuffer() ?? Buffer.alloc(0) };
      break;
    case OpCode.closeSession:
      request = { opcode };
      break;
    default:
      if (!WRITE_OPCODES.has(opcode)) throw new Error(`opcode ${opcode} is not a write`);
      request = decodeWrite(opcode, r);
  }
  r.expectEnd('forwarded write');
  return request;
}
