// Start-up recovery of the write-ahead log: read every segment in order, validate it, keep
// the entries the caller needs, and cut a torn tail off the newest segment.
// Policy: a damaged tail of the newest segment is the expected result of a crash during an
// unacknowledged write, so it is dropped with a warning; damage anywhere else may hide
// acknowledged entries, so start-up stops with a StorageCorruptionError.
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { REMEDY_RESTORE, StorageCorruptionError } from './errors.js';
import { fsyncDir } from './fs-util.js';
import { parseSegmentFileName, scanSegment } from './segment.js';
import type { SegmentScan } from './segment.js';

/** readFile cannot return more than 2 GiB; segments are normally far below this. */
const SEGMENT_FILE_BYTES_MAX = 2 ** 31 - 1;

export interface LogEntry {
  term: number;
  index: number;
  data: Buffer;
}

/** In-memory description of one segment file holding at least one record. */
export interface SegmentInfo {
  /** Full path. */
  file: string;
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  /** End of the last record. */
  sizeBytes: number;
  /** Size of the file: more than sizeBytes when zero padding follows the last record (wal.ts). */
  fileBytes: number;
}

export interface TornTail {
  file: string;
  offset: number;
  bytesDropped: number;
}

export interface Recovered {
  segments: SegmentInfo[];
  entries: LogEntry[];
  tornTail: TornTail | null;
}

export interface RecoverOptions {
  dir: string;
  fsync: boolean;
  log: Logger;
  payloadBytesMax: number;
  /** Entries <= afterIndex are validated but not returned. */
  afterIndex: number;
  /** When true, a log starting after afterIndex + 1 is a gap between snapshot and log. */
  checkSnapshotGap: boolean;
}

/** Segment files in dir, oldest first. */
export async function listSegmentFiles(dir: string): Promise<Array<{ file: string; firstIndex: number }>> {
  const out: Array<{ file: string; firstIndex: number }> = [];
  for (const name of await readdir(dir)) {
    const firstIndex = parseSegmentFileName(name);
    if (firstIndex !== null) out.push({ file: join(dir, name), firstIndex });
  }
  return out.sort((a, b) => a.firstIndex - b.firstIndex);
}

export async function readSegmentFile(file: string): Promise<Buffer> {
  const { size } = await stat(file);
  if (size > SEGMENT_FILE_BYTES_MAX) {
    throw new StorageCorruptionError('WAL_BAD_HEADER', file, 0, `segment is ${size} bytes, more than the ${SEGMENT_FILE_BYTES_MAX} a segment may hold`, REMEDY_RESTORE);
  }
  const fh = await open(file, 'r');
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

export async function recoverLog(o: RecoverOptions): Promise<Recovered> {
  const files = await listSegmentFiles(o.dir);
  const segments: SegmentInfo[] = [];
  const entries: LogEntry[] = [];
  let tornTail: TornTail | null = null;
  for (let i = 0; i < files.length; i++) {
    const f = files[i] as { file: string; firstIndex: number };
    const isLast = i === files.length - 1;
    const buf = await readSegmentFile(f.file);
    const prev = segments.at(-1);
    const scan = scanSegment(buf, {
      file: f.file,
      nameIndex: f.firstIndex,
      isLast,
      expectedFirstIndex: prev === undefined ? null : prev.lastIndex + 1,
      payloadBytesMax: o.payloadBytesMax,
      onRecord: (term, index, _start, payloadStart, payloadEnd) => {
        // Views, not copies: the caller replays the entries and drops them, which frees the
        // segment buffers; copying a large log first cost ~5 % of recovery time.
        if (index > o.afterIndex) entries.push({ term, index, data: buf.subarray(payloadStart, payloadEnd) });
      },
    });
    if (scan.torn !== null) tornTail = await cutTornTail(o, f.file, scan);
    if (scan.lastIndex >= scan.firstIndex) {
      const fileBytes = scan.torn === null ? buf.length : scan.validBytes;
      segments.push({ file: f.file, firstIndex: scan.firstIndex, lastIndex: scan.lastIndex, lastTerm: scan.lastTerm, sizeBytes: scan.validBytes, fileBytes });
    } else if (!isLast) {
      throw new StorageCorruptionError('WAL_BAD_HEADER', f.file, 0, 'segment holds no records but newer segments exist', REMEDY_RESTORE);
    } else if (scan.torn === null) {
      // A newest segment with a valid header and no records: a crash right after creating it.
      await removeEmptySegment(o, f.file);
    }
  }
  checkSnapshotGap(o, segments);
  return { segments, entries, tornTail };
}

/** Truncates (or removes, when nothing valid is left) the newest segment at its torn tail. */
async function cutTornTail(o: RecoverOptions, file: string, scan: SegmentScan): Promise<TornTail> {
  const torn = scan.torn as NonNullable<SegmentScan['torn']>;
  const tail: TornTail = { file, offset: torn.offset, bytesDropped: torn.end - scan.validBytes };
  o.log.warn({ ...tail, problem: torn.problem },
    `write-ahead log ends in a torn record (a crash during an unacknowledged write): dropping ${tail.bytesDropped} bytes of ${file} from offset ${tail.offset}`);
  if (scan.lastIndex < scan.firstIndex) {
    await removeEmptySegment(o, file);
    return tail;
  }
  const fh = await open(file, 'r+');
  try {
    await fh.truncate(scan.validBytes);
    if (o.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  return tail;
}

async function removeEmptySegment(o: RecoverOptions, file: string): Promise<void> {
  o.log.info({ file }, 'removing the newest write-ahead log segment: it holds no complete record');
  await unlink(file);
  if (o.fsync) await fsyncDir(o.dir);
}

function checkSnapshotGap(o: RecoverOptions, segments: readonly SegmentInfo[]): void {
  const first = segments[0];
  if (!o.checkSnapshotGap || first === undefined || first.firstIndex <= o.afterIndex + 1) return;
  throw new StorageCorruptionError('WAL_INDEX_GAP', first.file, 0,
    `the log starts at index ${first.firstIndex} but the snapshot covers only up to ${o.afterIndex}, so entries ${o.afterIndex + 1}..${first.firstIndex - 1} are missing`,
    REMEDY_RESTORE);
}
