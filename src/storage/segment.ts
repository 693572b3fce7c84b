// On-disk format of write-ahead log segments, and a pure scanner that validates one segment
// held in memory. No I/O here: wal.ts and wal-recovery.ts read and write the files.
//
// Segment file  wal-<first index, 20 decimal digits>.log
//   header  u32 magic 'ZRWL' | u32 version | u64 firstIndex | u32 crc32c(previous 16 bytes)
//   records u32 payloadLength | u32 crc | u64 term | u64 index | payload
//           crc = crc32c over the record with the crc field left out (length, term, index, payload)
// All integers big-endian. Records in a segment have consecutive indexes starting at firstIndex.
// Zero bytes may follow the last record up to the end of the file: padding written ahead of
// the records (wal.ts). A scan ends where only zeros are left.
import { crc32c } from './crc32c.js';
import { REMEDY_RESTORE, StorageCorruptionError } from './errors.js';

export const SEGMENT_MAGIC = 0x5a52574c; // 'ZRWL'
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 20;
export const RECORD_HEADER_BYTES = 24;
/** Largest payload one record may carry; checked before anything is allocated. */
export const RECORD_PAYLOAD_BYTES_MAX = 64 * 1024 * 1024;

const TWO_POW_32 = 2 ** 32;
const SEGMENT_NAME = /^wal-(\d{20})\.log$/;

export function segmentFileName(firstIndex: number): string {
  return `wal-${String(firstIndex).padStart(20, '0')}.log`;
}

/** The first index a segment file name declares, or null if the name is not a segment's. */
export function parseSegmentFileName(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

/** u64 fields hold JavaScript safe integers; anything larger reads as null (treated as damage). */
function readU64(buf: Buffer, at: number): number | null {
  const hi = buf.readUInt32BE(at);
  if (hi > 0x1fffff) return null;
  return hi * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function writeU64(buf: Buffer, v: number, at: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO_POW_32), at);
  buf.writeUInt32BE(v >>> 0, at + 4);
}

export function encodeSegmentHeader(firstIndex: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  buf.writeUInt32BE(SEGMENT_MAGIC, 0);
  buf.writeUInt32BE(SEGMENT_VERSION, 4);
  writeU64(buf, firstIndex, 8);
  buf.writeUInt32BE(crc32c(buf, 0, 0, 16), 16);
  return buf;
}

export interface RecordInput {
  term: number;
  index: number;
  data: Uint8Array;
}

/** Encodes a batch into one buffer so it reaches the disk in a single write. */
export function encodeRecords(entries: readonly RecordInput[]): Buffer {
  let total = 0;
  for (const e of entries) total += RECORD_HEADER_BYTES + e.data.length;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const e of entries) {
    const len = e.data.length;
    buf.writeUInt32BE(len, at);
    writeU64(buf, e.term, at + 8);
    writeU64(buf, e.index, at + 16);
    buf.set(e.data, at + RECORD_HEADER_BYTES);
    const end = at + RECORD_HEADER_BYTES + len;
    buf.writeUInt32BE(crc32c(buf, crc32c(buf, 0, at, at + 4), at + 8, end), at + 4);
    at = end;
  }
  return buf;
}

type RecordCheck =
  | { ok: true; term: number; index: number; end: number }
  | { ok: false; problem: string };

/** Framing and checksum of the record at `at`; the index is checked by the caller. */
function checkRecord(buf: Buffer, at: number, payloadBytesMax: number): RecordCheck {
  const left = buf.length - at;
  if (left < RECORD_HEADER_BYTES) return { ok: false, problem: `incomplete record header (${left} bytes left)` };
  const len = buf.readUInt32BE(at);
  if (len > payloadBytesMax) return { ok: false, problem: `record length ${len} exceeds the limit ${payloadBytesMax}` };
  const end = at + RECORD_HEADER_BYTES + len;
  if (end > buf.length) {
    return { ok: false, problem: `record length ${len} runs past the end of the file (${left - RECORD_HEADER_BYTES} bytes left)` };
  }
  const term = readU64(buf, at + 8);
  const index = readU64(buf, at + 16);
  if (term === null || index === null || index < 1) return { ok: false, problem: 'record term or index out of range' };
  const crc = crc32c(buf, crc32c(buf, 0, at, at + 4), at + 8, end);
  if (crc !== buf.readUInt32BE(at + 4)) return { ok: false, problem: 'record checksum mismatch' };
  return { ok: true, term, index, end };
}

/**
 * Offset of the first record after `from` that passes its checksum and carries a plausible
 * index, or null. This separates a torn tail (nothing valid follows) from damage in the
 * middle of the log. Only used on the error path, so the byte-by-byte search is acceptable.
 */
function findValidRecordAfter(buf: Buffer, from: number, expectedIndex: number, payloadBytesMax: number): { at: number; index: number } | null {
  // No more records than this can fit after `from`, so no valid index can lie beyond it.
  const indexMax = expectedIndex + Math.ceil((buf.length - from) / RECORD_HEADER_BYTES);
  for (let at = from; at + RECORD_HEADER_BYTES <= buf.length; at++) {
    const index = readU64(buf, at + 16);
    if (index === null || index < expectedIndex || index > indexMax) continue;
    const r = checkRecord(buf, at, payloadBytesMax);
    if (r.ok) return { at, index: r.index };
  }
  return null;
}

export interface ScanOptions {
  /** Full path, for messages. */
  file: string;
  /** First index the file name declares. */
  nameIndex: number;
  /** Only the last segment may end in a torn tail. */
  isLast: boolean;
  /** Required first index (previous segment's last + 1), or null for the first segment. */
  expectedFirstIndex: number | null;
  payloadBytesMax: number;
  /** Called for every valid record, in order; the payload is buf[payloadStart, payloadEnd). */
  onRecord?: (term: number, index: number, recordStart: number, payloadStart: number, payloadEnd: number) => void;
}

export interface SegmentScan {
  firstIndex: number;
  /** firstIndex - 1 when the segment holds no valid record. */
  lastIndex: number;
  /** 0 when the segment holds no valid record. */
  lastTerm: number;
  /** Bytes that hold the header and valid records; the file is cut back to this on a torn tail. */
  validBytes: number;
  /** `end`: one past the last non-zero byte of the damage (zero padding after it is not counted). */
  torn: { offset: number; problem: string; end: number } | null;
}

/** Zero bytes to compare the log's padding with, and to write it from (never written to). */
export const ZERO_CHUNK = Buffer.alloc(64 * 1024);

/** Whether buf[from, to) holds only zero bytes (compared a chunk at a time). */
function isAllZero(buf: Buffer, from: number, to = buf.length): boolean {
  for (let at = from; at < to; at += ZERO_CHUNK.length) {
    const n = Math.min(ZERO_CHUNK.length, to - at);
    if (buf.compare(ZERO_CHUNK, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}

/**
 * Zeros from `at` to the end are the log's padding (wal.ts), not damage: no record has index
 * 0. A torn write followed by padding still has non-zero bytes, so it is not mistaken for it.
 */
function isPaddingAt(buf: Buffer, at: number): boolean {
  if (buf.length - at >= RECORD_HEADER_BYTES && (buf.readUInt32BE(at + 16) !== 0 || buf.readUInt32BE(at + 20) !== 0)) return false;
  return isAllZero(buf, at);
}

/** One past the last non-zero byte of buf at or after `from` (from itself if there is none). */
function endOfNonZero(buf: Buffer, from: number): number {
  let to = buf.length;
  while (to > from) {
    const start = Math.max(from, to - ZERO_CHUNK.length);
    if (!isAllZero(buf, start, to)) break;
    to = start;
  }
  while (to > from && buf[to - 1] === 0) to--;
  return to;
}

function corrupt(code: 'WAL_FOREIGN_FILE' | 'WAL_UNSUPPORTED_VERSION' | 'WAL_BAD_HEADER' | 'WAL_BAD_RECORD' | 'WAL_INDEX_GAP', file: string, offset: number, problem: string, remedy = REMEDY_RESTORE): StorageCorruptionError {
  return new StorageCorruptionError(code, file, offset, problem, remedy);
}

/** Validates the segment header; returns null when the last segment's header itself is torn. */
function checkHeader(buf: Buffer, o: ScanOptions): number | null {
  if (buf.length < SEGMENT_HEADER_BYTES || (buf.readUInt32BE(0) === 0 && isAllZero(buf, 0))) {
    // A crash while creating the newest segment leaves a short or zero-filled header.
    if (o.isLast) return null;
    throw corrupt('WAL_BAD_HEADER', o.file, 0, `segment header is missing (${buf.length} bytes) but later segments exist`);
  }
  const magic = buf.readUInt32BE(0);
  if (magic !== SEGMENT_MAGIC) {
    throw corrupt('WAL_FOREIGN_FILE', o.file, 0, `not a zooraft log segment (magic 0x${magic.toString(16)}, expected 0x${SEGMENT_MAGIC.toString(16)} 'ZRWL')`,
      'Move this file out of the log directory; zooraft does not read ZooKeeper transaction logs');
  }
  const version = buf.readUInt32BE(4);
  if (version !== SEGMENT_VERSION) {
    throw corrupt('WAL_UNSUPPORTED_VERSION', o.file, 4, `segment format version ${version} is not supported (this build reads version ${SEGMENT_VERSION})`,
      'Run the zooraft version that wrote this data directory');
  }
  if (crc32c(buf, 0, 0, 16) !== buf.readUInt32BE(16)) throw corrupt('WAL_BAD_HEADER', o.file, 0, 'segment header checksum mismatch');
  const firstIndex = readU64(buf, 8);
  if (firstIndex !== o.nameIndex) {
    throw corrupt('WAL_BAD_HEADER', o.file, 8, `segment header says first index ${String(firstIndex)} but the file name says ${o.nameIndex}`);
  }
  if (o.expectedFirstIndex !== null && firstIndex !== o.expectedFirstIndex) {
    throw corrupt('WAL_INDEX_GAP', o.file, 0, `segment starts at index ${firstIndex} but the previous segment ends at ${o.expectedFirstIndex - 1}`);
  }
  return firstIndex;
}

/** Validates a whole segment: header, every record's framing, checksum and index continuity. */
export function scanSegment(buf: Buffer, o: ScanOptions): SegmentScan {
  const firstIndex = checkHeader(buf, o);
  if (firstIndex === null) {
    return { firstIndex: o.nameIndex, lastIndex: o.nameIndex - 1, lastTerm: 0, validBytes: 0, torn: { offset: 0, problem: 'torn segment header', end: endOfNonZero(buf, 0) } };
  }
  let at = SEGMENT_HEADER_BYTES;
  let expected = firstIndex;
  let lastTerm = 0;
  while (at < buf.length) {
    if (isPaddingAt(buf, at)) break;
    const r = checkRecord(buf, at, o.payloadBytesMax);
    if (!r.ok) {
      if (!o.isLast) throw corrupt('WAL_BAD_RECORD', o.file, at, `${r.problem} in a segment that is not the newest`);
      const next = findValidRecordAfter(buf, at + 1, expected, o.payloadBytesMax);
      if (next !== null) {
        throw corrupt('WAL_BAD_RECORD', o.file, at, `${r.problem} (index ${expected} expected), but a valid record with index ${next.index} follows at offset ${next.at}`);
      }
      return { firstIndex, lastIndex: expected - 1, lastTerm, validBytes: at, torn: { offset: at, problem: r.problem, end: endOfNonZero(buf, at) } };
    }
    if (r.index !== expected) throw corrupt('WAL_INDEX_GAP', o.file, at, `record has index ${r.index} but ${expected} was expected`);
    o.onRecord?.(r.term, r.index, at, at + RECORD_HEADER_BYTES, r.end);
    lastTerm = r.term;
    expected += 1;
    at = r.end;
  }
  return { firstIndex, lastIndex: expected - 1, lastTerm, validBytes: at, torn: null };
}
