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
  writeMultiResponse,
} from '../../../wire/index.js';
import type { JuteReader, JuteWriter, MultiResultOut } from '../../../wire/index.js';
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
