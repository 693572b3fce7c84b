// What ensemble members say to each other, and its byte encoding (jute primitives, one frame
// per message; the transport adds the length prefix). Besides Raft's own messages: writes a
// follower forwards to the leader, the leader's answer with the log index it got, session
// liveness reports (the leader alone expires sessions), and sync's "how far is committed?".
import { JuteError, JuteReader, JuteWriter } from '../../wire/index.js';
import type { Id } from '../../wire/index.js';
import type { Entry, Message } from '../raft/types.js';

export const PEER_FRAME_BYTES_MAX = 1024 * 1024 * 1024;

/** A follower's client write, for the leader to prep and log. */
export interface ForwardRequest {
  kind: 'forward';
  requestId: number;
  sessionId: bigint;
  cxid: number;
  opcode: number;
  authIds: Id[];
  /** The request record as the client sent it (or as encodeForwardBody built it). */
  body: Buffer;
}

/** index > 0: the write is entry `index`; the follower answers its client when it applies it. */
export interface ForwardResponse {
  kind: 'forwardResponse';
  requestId: number;
  index: number;
}

/** Sessions of this member's clients that were active since the last report. */
export interface SessionTouches {
  kind: 'touches';
  sessions: Array<{ sessionId: bigint; timeoutMs: number }>;
}

export interface SyncRequest {
  kind: 'sync';
  requestId: number;
}

export interface SyncResponse {
  kind: 'syncResponse';
  requestId: number;
  commitIndex: number;
}

export type PeerMessage = { kind: 'raft'; message: Message } | ForwardRequest | ForwardResponse | SessionTouches | SyncRequest | SyncResponse;

const KIND = { raft: 1, forward: 2, forwardResponse: 3, touches: 4, sync: 5, syncResponse: 6 } as const;
const RAFT_TYPE = { vote: 1, voteResponse: 2, append: 3, appendResponse: 4, snapshot: 5 } as const;

export function encodePeerMessage(m: PeerMessage): Buffer {
  const w = new JuteWriter(m.kind === 'raft' && m.message.type === 'append' ? 1024 + m.message.entries.reduce((n, e) => n + e.data.length + 24, 0) : 256);
  w.writeRaw(Uint8Array.of(KIND[m.kind]));
  switch (m.kind) {
    case 'raft':
      writeRaft(w, m.message);
      break;
    case 'forward':
      w.writeLongNumber(m.requestId);
      w.writeLong(m.sessionId);
      w.writeInt(m.cxid);
      w.writeInt(m.opcode);
      w.writeInt(m.authIds.length);
      for (const id of m.authIds) {
        w.writeUString(id.scheme);
        w.writeUString(id.id);
      }
      w.writeBuffer(m.body);
      break;
    case 'forwardResponse':
      w.writeLongNumber(m.requestId);
      w.writeLongNumber(m.index);
      break;
    case 'touches':
      w.writeInt(m.sessions.length);
      for (const s of m.sessions) {
        w.writeLong(s.sessionId);
        w.writeInt(s.timeoutMs);
      }
      break;
    case 'sync':
      w.writeLongNumber(m.requestId);
      break;
    case 'syncResponse':
      w.writeLongNumber(m.requestId);
      w.writeLongNumber(m.commitIndex);
      break;
  }
  return w.toBuffer();
}

function writeRaft(w: JuteWriter, m: Message): void {
  w.writeRaw(Uint8Array.of(RAFT_TYPE[m.type]));
  w.writeLongNumber(m.term);
  w.writeInt(m.from);
  w.writeInt(m.to);
  switch (m.type) {
    case 'vote':
      w.writeBool(m.pre);
      w.writeLongNumber(m.lastIndex);
      w.writeLongNumber(m.lastTerm);
      return;
    case 'voteResponse':
      w.writeBool(m.pre);
      w.writeBool(m.granted);
      return;
    case 'append':
      w.writeLongNumber(m.prevIndex);
      w.writeLongNumber(m.prevTerm);
      w.writeLongNumber(m.commit);
      w.writeInt(m.entries.length);
      for (const e of m.entries) {
        w.writeLongNumber(e.term);
        w.writeLongNumber(e.index);
        w.writeBuffer(e.data);
      }
      return;
    case 'appendResponse':
      w.writeBool(m.success);
      w.writeLongNumber(m.matchIndex);
      w.writeLongNumber(m.lastIndex);
      return;
    case 'snapshot':
      w.writeLongNumber(m.snapshot.index);
      w.writeLongNumber(m.snapshot.term);
      w.writeBuffer(m.data);
      return;
  }
}

/** Throws JuteError on a malformed frame (the caller drops that peer connection). */
export function decodePeerMessage(frame: Buffer): PeerMessage {
  // Raft messages carry their type in a second byte.
  const r = new JuteReader(frame, frame[0] === KIND.raft ? 2 : 1, frame.length, PEER_FRAME_BYTES_MAX);
  let m: PeerMessage;
  switch (frame[0]) {
    case KIND.raft:
      m = { kind: 'raft', message: readRaft(r, frame[1]) };
      break;
    case KIND.forward: {
      const requestId = readNumber(r);
      const sessionId = r.readLong();
      const cxid = r.readInt();
      const opcode = r.readInt();
      const authIds: Id[] = [];
      for (let n = readCount(r); n > 0; n--) authIds.push({ scheme: r.readUString() ?? '', id: r.readUString() ?? '' });
      m = { kind: 'forward', requestId, sessionId, cxid, opcode, authIds, body: r.readBuffer() ?? Buffer.alloc(0) };
      break;
    }
    case KIND.forwardResponse:
      m = { kind: 'forwardResponse', requestId: readNumber(r), index: readNumber(r) };
      break;
    case KIND.touches: {
      const sessions: SessionTouches['sessions'] = [];
      for (let n = readCount(r); n > 0; n--) sessions.push({ sessionId: r.readLong(), timeoutMs: r.readInt() });
      m = { kind: 'touches', sessions };
      break;
    }
    case KIND.sync:
      m = { kind: 'sync', requestId: readNumber(r) };
      break;
    case KIND.syncResponse:
      m = { kind: 'syncResponse', requestId: readNumber(r), commitIndex: readNumber(r) };
      break;
    default:
      throw new JuteError('JUTE_BAD_VALUE', `unknown peer message kind ${frame[0] ?? 'none'}`);
  }
  r.expectEnd('peer message');
  return m;
}

function readRaft(r: JuteReader, type: number | undefined): Message {
  const term = readNumber(r);
  const from = r.readInt();
  const to = r.readInt();
  switch (type) {
    case RAFT_TYPE.vote:
      return { type: 'vote', term, from, to, pre: r.readBool(), lastIndex: readNumber(r), lastTerm: readNumber(r) };
    case RAFT_TYPE.voteResponse:
      return { type: 'voteResponse', term, from, to, pre: r.readBool(), granted: r.readBool() };
    case RAFT_TYPE.append: {
      const prevIndex = readNumber(r);
      const prevTerm = readNumber(r);
      const commit = readNumber(r);
      const entries: Entry[] = [];
      for (let n = readCount(r); n > 0; n--) entries.push({ term: readNumber(r), index: readNumber(r), data: r.readBuffer() ?? Buffer.alloc(0) });
      return { type: 'append', term, from, to, prevIndex, prevTerm, commit, entries };
    }
    case RAFT_TYPE.appendResponse:
      return { type: 'appendResponse', term, from, to, success: r.readBool(), matchIndex: readNumber(r), lastIndex: readNumber(r) };
    case RAFT_TYPE.snapshot:
      return { type: 'snapshot', term, from, to, snapshot: { index: readNumber(r), term: readNumber(r) }, data: r.readBuffer() ?? Buffer.alloc(0) };
    default:
      throw new JuteError('JUTE_BAD_VALUE', `unknown raft message type ${type ?? 'none'}`);
  }
}

function readNumber(r: JuteReader): number {
  const v = r.readLong();
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new JuteError('JUTE_BAD_VALUE', `peer message number out of range: ${v}`);
  return Number(v);
}

function readCount(r: JuteReader): number {
  const n = r.readInt();
  if (n < 0 || n > r.remaining) throw new JuteError('JUTE_BAD_VALUE', `peer message count ${n} is impossible here`);
  return n;
}
