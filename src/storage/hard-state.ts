// Raft's hard state: the current term and the vote cast in it. Both must be durable before a
// vote is granted or a term acknowledged, or a restarted node could vote twice in one term.
//
// File  raft-hardstate (28 bytes)
//   u32 magic 'ZRHS' | u32 version | u64 term | i64 votedFor (-1 = none) | u32 crc32c(previous 24 bytes)
// Replaced atomically (temp file, fsync, rename, fsync directory).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from './crc32c.js';
import { StorageCorruptionError, StorageError } from './errors.js';
import { isNotFound, writeFileAtomic } from './fs-util.js';

export interface HardState {
  term: number;
  /** Server id voted for in `term`, or null. */
  votedFor: number | null;
}

export interface HardStateStoreOptions {
  dir: string;
  fsync: boolean;
  log: Logger;
}

export const HARD_STATE_FILE = 'raft-hardstate';
const MAGIC = 0x5a524853; // 'ZRHS'
const VERSION = 1;
const FILE_BYTES = 28;
const TWO_POW_32 = 2 ** 32;

const REMEDY_HARD_STATE =
  'Without it this server could vote twice in one term. Restore the file from a backup, or remove it only if ' +
  'this server is removed from the ensemble and rejoins as a new member';

export function encodeHardState(s: HardState): Buffer {
  const buf = Buffer.alloc(FILE_BYTES);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(VERSION, 4);
  buf.writeUInt32BE(Math.floor(s.term / TWO_POW_32), 8);
  buf.writeUInt32BE(s.term >>> 0, 12);
  buf.writeBigInt64BE(BigInt(s.votedFor ?? -1), 16);
  buf.writeUInt32BE(crc32c(buf, 0, 0, 24), 24);
  return buf;
}

export function decodeHardState(buf: Buffer, file: string): HardState {
  const bad = (offset: number, problem: string): StorageCorruptionError =>
    new StorageCorruptionError('HARD_STATE_CORRUPT', file, offset, problem, REMEDY_HARD_STATE);
  if (buf.length !== FILE_BYTES) throw bad(0, `hard state file is ${buf.length} bytes, expected ${FILE_BYTES}`);
  if (buf.readUInt32BE(0) !== MAGIC) throw bad(0, 'not a zooraft hard state file (bad magic)');
  if (buf.readUInt32BE(4) !== VERSION) throw bad(4, `hard state version ${buf.readUInt32BE(4)} is not supported`);
  if (crc32c(buf, 0, 0, 24) !== buf.readUInt32BE(24)) throw bad(24, 'hard state checksum mismatch');
  const term = buf.readUInt32BE(8) * TWO_POW_32 + buf.readUInt32BE(12);
  const vote = buf.readBigInt64BE(16);
  if (!Number.isSafeInteger(term) || vote < -1n || vote > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(8, 'hard state term or vote out of range');
  return { term, votedFor: vote === -1n ? null : Number(vote) };
}

export class HardStateStore {
  private readonly dir: string;
  private readonly fsync: boolean;
  private readonly log: Logger;
  /** Saves run one at a time so the last call's state is the one left on disk. */
  private chain: Promise<void> = Promise.resolve();

  constructor(opts: HardStateStoreOptions) {
    this.dir = opts.dir;
    this.fsync = opts.fsync;
    this.log = opts.log;
  }

  get file(): string {
    return join(this.dir, HARD_STATE_FILE);
  }

  /** The saved state, or term 0 with no vote when nothing was saved yet. */
  async load(): Promise<HardState> {
    try {
      return decodeHardState(await readFile(this.file), this.file);
    } catch (err) {
      if (isNotFound(err)) return { term: 0, votedFor: null };
      throw err;
    }
  }

  /** Resolves once the state is durable. */
  save(state: HardState): Promise<void> {
    if (!Number.isSafeInteger(state.term) || state.term < 0 || (state.votedFor !== null && (!Number.isSafeInteger(state.votedFor) || state.votedFor < 0))) {
      return Promise.reject(new StorageError('STORAGE_BAD_ARGUMENT', `bad hard state term ${state.term} votedFor ${String(state.votedFor)}`));
    }
    const data = encodeHardState(state);
    const run = async (): Promise<void> => {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.dir, HARD_STATE_FILE, data, this.fsync);
      this.log.debug({ term: state.term, votedFor: state.votedFor }, 'raft hard state saved');
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
