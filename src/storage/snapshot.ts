// Snapshot files: the state machine's serialized state as of one log entry.
//
// File  snapshot.<index, 20 decimal digits>.<term, 20 decimal digits>
//   header   u32 magic 'ZRSN' | u32 version | u64 index | u64 term
//   payload  opaque bytes
//   trailer  u64 payloadLength | u32 crc32c over everything before it
// Written to a temp file, fsynced, renamed into place, directory fsynced: a crash leaves the
// old set of snapshots or the new one, never a half-written snapshot under a final name.
import { constants as bufferConstants } from 'node:buffer';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from './crc32c.js';
import { StorageCorruptionError, StorageError } from './errors.js';
import { fsyncDir, isNotFound, isTempName, tempName, writeAll } from './fs-util.js';

export interface SnapshotMeta {
  /** Last log entry the snapshot covers. */
  index: number;
  term: number;
}

export interface SnapshotStoreOptions {
  dir: string;
  fsync: boolean;
  log: Logger;
}

const SNAPSHOT_MAGIC = 0x5a52534e; // 'ZRSN'
const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 24;
const TRAILER_BYTES = 12;
const TWO_POW_32 = 2 ** 32;
/** Chunks smaller than this are gathered so a tree written node by node is not one syscall per node. */
const WRITE_CHUNK_BYTES = 1024 * 1024;
/** A snapshot is loaded into one Buffer, so it cannot be larger than a Buffer may be. */
export const SNAPSHOT_BYTES_MAX = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);
/** autopurge.snapRetainCount cannot go below 3 in ZooKeeper either. */
export const SNAPSHOT_RETAIN_MIN = 3;

const SNAPSHOT_NAME = /^snapshot\.(\d{20})\.(\d{20})$/;

const REMEDY_SNAPSHOT = 'An older snapshot plus the log may still recover the data; otherwise restore from a healthy replica or a backup';

export function snapshotFileName(meta: SnapshotMeta): string {
  return `snapshot.${String(meta.index).padStart(20, '0')}.${String(meta.term).padStart(20, '0')}`;
}

export function parseSnapshotFileName(name: string): SnapshotMeta | null {
  const m = SNAPSHOT_NAME.exec(name);
  if (m === null) return null;
  const index = Number(m[1]);
  const term = Number(m[2]);
  return Number.isSafeInteger(index) && Number.isSafeInteger(term) ? { index, term } : null;
}

function writeU64(buf: Buffer, v: number, at: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO_POW_32), at);
  buf.writeUInt32BE(v >>> 0, at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function encodeHeader(meta: SnapshotMeta): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.writeUInt32BE(SNAPSHOT_MAGIC, 0);
  buf.writeUInt32BE(SNAPSHOT_VERSION, 4);
  writeU64(buf, meta.index, 8);
  writeU64(buf, meta.term, 16);
  return buf;
}

/** Checks a whole snapshot file held in memory; returns the payload (a view into buf). */
export function verifySnapshot(buf: Buffer, file: string, expected: SnapshotMeta): Buffer {
  const bad = (offset: number, problem: string): StorageCorruptionError =>
    new StorageCorruptionError('SNAPSHOT_CORRUPT', file, offset, problem, REMEDY_SNAPSHOT);
  if (buf.length < HEADER_BYTES + TRAILER_BYTES) throw bad(0, `snapshot is only ${buf.length} bytes`);
  const magic = buf.readUInt32BE(0);
  if (magic !== SNAPSHOT_MAGIC) throw bad(0, `not a zooraft snapshot (magic 0x${magic.toString(16)}, expected 0x${SNAPSHOT_MAGIC.toString(16)} 'ZRSN')`);
  const version = buf.readUInt32BE(4);
  if (version !== SNAPSHOT_VERSION) throw bad(4, `snapshot format version ${version} is not supported (this build reads ${SNAPSHOT_VERSION})`);
  const trailerAt = buf.length - TRAILER_BYTES;
  const crc = crc32c(buf, 0, 0, trailerAt + 8);
  if (crc !== buf.readUInt32BE(trailerAt + 8)) throw bad(trailerAt + 8, 'snapshot checksum mismatch');
  const payloadBytes = readU64(buf, trailerAt);
  if (payloadBytes !== trailerAt - HEADER_BYTES) throw bad(trailerAt, `trailer says ${payloadBytes} payload bytes but the file holds ${trailerAt - HEADER_BYTES}`);
  const index = readU64(buf, 8);
  const term = readU64(buf, 16);
  if (index !== expected.index || term !== expected.term) {
    throw bad(8, `header says index ${index} term ${term} but the file name says index ${expected.index} term ${expected.term}`);
  }
  return buf.subarray(HEADER_BYTES, trailerAt);
}

async function* chunksOf(data: Buffer | AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  if (Buffer.isBuffer(data)) yield data;
  else yield* data;
}

export class SnapshotStore {
  private readonly dir: string;
  private readonly fsync: boolean;
  private readonly log: Logger;
  /** Temp files of saves in progress, which a cleanup must not remove. */
  private readonly inFlight = new Set<string>();

  constructor(opts: SnapshotStoreOptions) {
    this.dir = opts.dir;
    this.fsync = opts.fsync;
    this.log = opts.log;
  }

  /** Writes a snapshot atomically; data may arrive in chunks so a large tree is never one Buffer. */
  async save(meta: SnapshotMeta, data: Buffer | AsyncIterable<Buffer>): Promise<{ file: string; bytes: number }> {
    if (!Number.isSafeInteger(meta.index) || meta.index < 0 || !Number.isSafeInteger(meta.term) || meta.term < 0) {
      throw new StorageError('STORAGE_BAD_ARGUMENT', `bad snapshot meta index ${meta.index} term ${meta.term}`);
    }
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, snapshotFileName(meta));
    const tmp = join(this.dir, tempName(snapshotFileName(meta)));
    this.inFlight.add(tmp);
    try {
      const bytes = await this.writeTemp(tmp, meta, data);
      await rename(tmp, file);
      if (this.fsync) await fsyncDir(this.dir);
      this.log.info({ file, bytes, index: meta.index, term: meta.term }, 'snapshot saved');
      return { file, bytes };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    } finally {
      this.inFlight.delete(tmp);
    }
  }

  private async writeTemp(tmp: string, meta: SnapshotMeta, data: Buffer | AsyncIterable<Buffer>): Promise<number> {
    const fh = await open(tmp, 'wx');
    try {
      const header = encodeHeader(meta);
      await writeAll(fh, header, 0);
      let crc = crc32c(header);
      let pos = HEADER_BYTES;
      const pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (): Promise<void> => {
        const chunk = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
        pending.length = 0;
        pendingBytes = 0;
        await writeAll(fh, chunk, pos);
        pos += chunk.length;
      };
      for await (const chunk of chunksOf(data)) {
        crc = crc32c(chunk, crc);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_CHUNK_BYTES) await flush();
      }
      if (pendingBytes > 0) await flush();
      return await this.writeTrailer(fh, pos, crc);
    } finally {
      await fh.close();
    }
  }

  private async writeTrailer(fh: FileHandle, pos: number, crc: number): Promise<number> {
    const payloadBytes = pos - HEADER_BYTES;
    if (pos + TRAILER_BYTES > SNAPSHOT_BYTES_MAX) {
      throw new StorageError('SNAPSHOT_TOO_LARGE', `snapshot payload of ${payloadBytes} bytes is larger than a snapshot can be loaded (${SNAPSHOT_BYTES_MAX})`);
    }
    const trailer = Buffer.alloc(TRAILER_BYTES);
    writeU64(trailer, payloadBytes, 0);
    trailer.writeUInt32BE(crc32c(trailer, crc, 0, 8), 8);
    await writeAll(fh, trailer, pos);
    if (this.fsync) await fh.sync();
    return pos + TRAILER_BYTES;
  }

  /** Snapshots on disk by name, oldest first (checksums are not read). */
  async list(): Promise<Array<SnapshotMeta & { file: string }>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const out: Array<SnapshotMeta & { file: string }> = [];
    for (const name of names) {
      const meta = parseSnapshotFileName(name);
      if (meta !== null) out.push({ ...meta, file: join(this.dir, name) });
    }
    return out.sort((a, b) => a.index - b.index || a.term - b.term);
  }

  /** The newest snapshot that verifies; damaged newer ones are reported and skipped. */
  async loadLatest(): Promise<{ meta: SnapshotMeta; data: Buffer; file: string } | null> {
    await this.removeStaleTemps();
    const all = await this.list();
    for (let i = all.length - 1; i >= 0; i--) {
      const s = all[i] as SnapshotMeta & { file: string };
      const meta = { index: s.index, term: s.term };
      try {
        return { meta, data: await this.read(s.file, meta), file: s.file };
      } catch (err) {
        if (!(err instanceof StorageCorruptionError)) throw err;
        this.log.warn({ file: err.file, offset: err.offset, err }, `snapshot is damaged, falling back to an older one: ${err.message}`);
      }
    }
    return null;
  }

  /** The newest valid snapshot, read while the server runs (to send to a member that is behind). */
  async readNewest(): Promise<{ meta: SnapshotMeta; data: Buffer } | null> {
    const all = await this.list();
    for (let i = all.length - 1; i >= 0; i--) {
      const s = all[i] as SnapshotMeta & { file: string };
      const meta = { index: s.index, term: s.term };
      try {
        return { meta, data: await this.read(s.file, meta) };
      } catch (err) {
        // Purged or damaged meanwhile: an older one will do.
        if (!(err instanceof StorageCorruptionError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return null;
  }

  private async read(file: string, meta: SnapshotMeta): Promise<Buffer> {
    const { size } = await stat(file);
    if (size > SNAPSHOT_BYTES_MAX) {
      throw new StorageError('SNAPSHOT_TOO_LARGE', `${file} is ${size} bytes, more than can be loaded (${SNAPSHOT_BYTES_MAX})`);
    }
    const fh = await open(file, 'r');
    try {
      return verifySnapshot(await fh.readFile(), file, meta);
    } finally {
      await fh.close();
    }
  }

  /**
   * Keeps the newest max(retain, 3) snapshots and deletes the rest. Returns the oldest kept
   * snapshot's meta: the log may be compacted up to it, since any kept snapshot may be the
   * one recovery falls back to. null when there are no snapshots.
   */
  async purge(retain: number): Promise<SnapshotMeta | null> {
    const keep = Math.max(SNAPSHOT_RETAIN_MIN, Number.isSafeInteger(retain) ? retain : SNAPSHOT_RETAIN_MIN);
    await this.removeStaleTemps();
    const all = await this.list();
    const doomed = all.slice(0, Math.max(0, all.length - keep));
    for (const s of doomed) {
      await unlink(s.file);
      this.log.info({ file: s.file }, 'old snapshot purged');
    }
    if (doomed.length > 0 && this.fsync) await fsyncDir(this.dir);
    const oldest = all[doomed.length];
    return oldest === undefined ? null : { index: oldest.index, term: oldest.term };
  }

  /** Bytes in snapshot files. */
  async sizeBytes(): Promise<number> {
    let total = 0;
    for (const s of await this.list()) total += (await stat(s.file)).size;
    return total;
  }

  /** Temp files left by a crash during save. */
  private async removeStaleTemps(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (name.startsWith('snapshot.') && isTempName(name) && !this.inFlight.has(path)) {
        await unlink(path).catch(() => undefined);
      }
    }
  }
}
