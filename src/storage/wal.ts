// The write-ahead log: a Raft log of opaque entries, stored as checksummed segment files
// (format in segment.ts, start-up recovery in wal-recovery.ts).
//
// Every mutation goes through one ordered queue. Appends made in one turn of the event loop,
// and those that arrive while a write+fsync is in progress, are coalesced into the next single
// write and fsync (group commit), and
// truncateSuffix/compactPrefix/close run in their place in that order, after everything queued
// before them is durable. A failed write or fsync leaves the file in an unknown state (after a
// failed fsync the kernel may have dropped dirty pages), so the log then refuses all writes and
// the process must restart and recover from disk.
import { fdatasync, fdatasyncSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { mkdir, open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { StorageError } from './errors.js';
import { fsyncDir, writeAll, writeAllSync } from './fs-util.js';
import { RECORD_PAYLOAD_BYTES_MAX, SEGMENT_HEADER_BYTES, ZERO_CHUNK, encodeRecords, encodeSegmentHeader, scanSegment, segmentFileName } from './segment.js';
import { readSegmentFile, recoverLog } from './wal-recovery.js';
import type { LogEntry, SegmentInfo, TornTail } from './wal-recovery.js';

export type { LogEntry, TornTail } from './wal-recovery.js';

export const SEGMENT_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** One group commit writes at most this much, but always at least one whole append batch. */
export const GROUP_BYTES_MAX = 16 * 1024 * 1024;
/**
 * The log file is padded with this many zeros ahead of its newest record. A group commit
 * that writes inside zeros already on disk neither grows the file nor allocates blocks, so
 * its fdatasync has no metadata to commit: ~30 % faster on ext4 here (0.11 against 0.16 ms
 * median), with a slower fsync once per step when the padding is extended. ZooKeeper pads
 * its log the same way (64 MiB, but as a hole, which still allocates blocks on each write).
 * Groups larger than the step are not padded: their data costs more than the metadata.
 */
export const WAL_PAD_BYTES = 1024 * 1024;
/**
 * A young segment is padded in smaller steps (as much as it holds, at least this much), so
 * the first write of a fresh server does not wait for 1 MiB of zeros to reach the disk.
 */
export const WAL_PAD_FIRST_BYTES = 64 * 1024;
/**
 * Group commits call fdatasync on the event loop's own thread while it is quick. Handed to
 * the libuv thread pool instead, each fsync wakes a pool thread that must first wait for a CPU
 * and then wake the loop again: under ephemeral churn on 2 cores (perf sched, 2 s) the pool
 * threads waited 747 ms in all, 27 times over 3 ms, while the syscall itself took 0.27 ms
 * (p50) and 0.63 ms (p99) under strace; every write waits for those waits. An fsync slower than
 * this blocked the loop (reads, pings, other members' messages) too long, so the log then
 * uses the thread pool for INLINE_SYNC_BACKOFF_MS before trying again: a slow disk costs one
 * such stall per backoff period, not one per write.
 */
export const INLINE_SYNC_MAX_MS = 5;
export const INLINE_SYNC_BACKOFF_MS = 10_000;

export interface WalOptions {
  /** Created if missing. */
  dir: string;
  /** forceSync: when false, nothing is fsynced (tests and benchmarks only). */
  fsync: boolean;
  /** A new segment is started once the current one reaches this size; a segment may exceed it by one group commit. */
  segmentBytesMax?: number;
  /** Zeros kept written ahead of the newest record (WAL_PAD_BYTES by default; 0 = none). */
  padBytes?: number;
  /** An fsync on the event loop slower than this sends fsyncs to the thread pool for a while (INLINE_SYNC_MAX_MS by default). */
  inlineSyncMaxMs?: number;
  log: Logger;
}

export interface WalOpenResult {
  wal: WriteAheadLog;
  /** Every valid entry with index > afterIndex, in order: views into the segment files read, to replay and drop. */
  entries: LogEntry[];
  tornTail: TornTail | null;
}

/** Counters for tests and four-letter words. */
export interface WalStats {
  /** Write+fsync rounds that made at least one append batch durable. */
  groupCommits: number;
  /** fsync/fdatasync calls on files and directories (0 when fsync is off). */
  fsyncs: number;
  /** Of the group commits' fdatasyncs, those run on the thread pool after a slow one on the loop. */
  poolSyncs: number;
  bytesWritten: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

interface AppendOp extends Waiter {
  kind: 'append';
  firstIndex: number;
  lastIndex: number;
  lastTerm: number;
  bytes: Buffer;
}

interface ControlOp extends Waiter {
  kind: 'control';
  run: () => Promise<void>;
}

type Op = AppendOp | ControlOp;

function checkIndex(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new StorageError('STORAGE_BAD_ARGUMENT', `${name} must be an integer >= ${min}, got ${v}`);
}

export class WriteAheadLog {
  private readonly dir: string;
  private readonly fsync: boolean;
  private readonly segmentBytesMax: number;
  private readonly padBytes: number;
  private readonly inlineSyncMaxMs: number;
  /** performance.now() until which group commits fsync on the thread pool (after a slow fsync). */
  private poolSyncUntil = 0;
  private readonly log: Logger;
  /** Oldest first; each holds at least one record. Only the newest is written to. */
  private readonly segments: SegmentInfo[];
  /** Open on the newest segment, or null when the log is empty. */
  private active: FileHandle | null = null;
  private readonly queue: Op[] = [];
  private draining = false;
  /** First and last index once everything queued has run (0 = empty): appends are checked against these. */
  private acceptedFirst: number;
  private acceptedLast: number;
  private failure: Error | null = null;
  private closePromise: Promise<void> | null = null;
  private readonly counters: WalStats = { groupCommits: 0, fsyncs: 0, poolSyncs: 0, bytesWritten: 0 };

  private constructor(opts: WalOptions, segmentBytesMax: number, segments: SegmentInfo[]) {
    this.dir = opts.dir;
    this.fsync = opts.fsync;
    this.segmentBytesMax = segmentBytesMax;
    this.padBytes = opts.padBytes ?? WAL_PAD_BYTES;
    this.inlineSyncMaxMs = opts.inlineSyncMaxMs ?? INLINE_SYNC_MAX_MS;
    this.log = opts.log;
    this.segments = segments;
    this.acceptedFirst = this.firstIndex;
    this.acceptedLast = this.lastIndex;
  }

  /**
   * Recovers the log in opts.dir. Entries <= afterIndex (covered by a snapshot) are validated
   * but not returned; when afterIndex is given, a log that starts after afterIndex + 1 is
   * reported as corruption (entries between the snapshot and the log are missing).
   */
  static async open(opts: WalOptions, afterIndex?: number): Promise<WalOpenResult> {
    const segmentBytesMax = opts.segmentBytesMax ?? SEGMENT_BYTES_MAX_DEFAULT;
    checkIndex('segmentBytesMax', segmentBytesMax, 1);
    checkIndex('padBytes', opts.padBytes ?? 0, 0);
    if (afterIndex !== undefined) checkIndex('afterIndex', afterIndex, 0);
    await mkdir(opts.dir, { recursive: true });
    const r = await recoverLog({
      dir: opts.dir,
      fsync: opts.fsync,
      log: opts.log,
      payloadBytesMax: RECORD_PAYLOAD_BYTES_MAX,
      afterIndex: afterIndex ?? 0,
      checkSnapshotGap: afterIndex !== undefined,
    });
    const wal = new WriteAheadLog(opts, segmentBytesMax, r.segments);
    const newest = r.segments.at(-1);
    if (newest !== undefined) wal.active = await open(newest.file, 'r+');
    return { wal, entries: r.entries, tornTail: r.tornTail };
  }

  /** First index on disk, 0 if the log is empty. Durable state: changes when operations resolve. */
  get firstIndex(): number {
    return this.segments[0]?.firstIndex ?? 0;
  }

  /** Last durable index, 0 if the log is empty. */
  get lastIndex(): number {
    return this.segments.at(-1)?.lastIndex ?? 0;
  }

  /** Term of the last durable entry, 0 if the log is empty. */
  get lastTerm(): number {
    return this.segments.at(-1)?.lastTerm ?? 0;
  }

  get stats(): WalStats {
    return { ...this.counters };
  }

  /**
   * Appends a batch and resolves once it is durable. The first entry must follow the last one
   * appended (or queued) so far, unless the log is empty. Batches queued while an fsync runs
   * share the next write and fsync. An empty batch is a barrier: it resolves once everything
   * queued before it is durable.
   */
  append(entries: readonly LogEntry[]): Promise<void> {
    try {
      this.checkOpen();
      this.checkAppend(entries);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const first = entries[0];
    const last = entries.at(-1);
    if (first === undefined || last === undefined) return this.enqueueControl(() => Promise.resolve());
    const bytes = encodeRecords(entries);
    if (this.acceptedFirst === 0) this.acceptedFirst = first.index;
    this.acceptedLast = last.index;
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'append', firstIndex: first.index, lastIndex: last.index, lastTerm: last.term, bytes, resolve, reject });
    });
  }

  /** Raft conflict resolution: drops every entry with index >= fromIndex; durable when it resolves. */
  truncateSuffix(fromIndex: number): Promise<void> {
    try {
      this.checkOpen();
      checkIndex('truncateSuffix fromIndex', fromIndex, 1);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (fromIndex <= this.acceptedFirst) {
      this.acceptedFirst = 0;
      this.acceptedLast = 0;
    } else if (fromIndex <= this.acceptedLast) {
      this.acceptedLast = fromIndex - 1;
    }
    return this.enqueueControl(() => this.runTruncateSuffix(fromIndex));
  }

  /**
   * Deletes whole segment files whose entries are all <= uptoIndex. The newest segment is
   * always kept, so lastIndex and lastTerm survive compaction.
   */
  compactPrefix(uptoIndex: number): Promise<void> {
    try {
      this.checkOpen();
      checkIndex('compactPrefix uptoIndex', uptoIndex, 0);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.enqueueControl(() => this.runCompactPrefix(uptoIndex));
  }

  /** Bytes in the log's segment files, padding included (the disk space they take). */
  sizeBytes(): Promise<number> {
    return Promise.resolve(this.segments.reduce((sum, s) => sum + s.fileBytes, 0));
  }

  /** Finishes everything queued, then closes the file. Later calls are refused with WAL_CLOSED. */
  close(): Promise<void> {
    if (this.closePromise === null) {
      // After a failure nothing queued touches the files any more, so close right away.
      this.closePromise = this.failure !== null ? this.closeActive() : this.enqueueControl(() => this.closeActive());
    }
    return this.closePromise;
  }

  private checkOpen(): void {
    if (this.failure !== null) throw this.failedError();
    if (this.closePromise !== null) throw new StorageError('WAL_CLOSED', `write-ahead log in ${this.dir} is closed`);
  }

  /** Broken continuity is a bug in the caller, refused before anything is queued. */
  private checkAppend(entries: readonly LogEntry[]): void {
    let prev = this.acceptedLast;
    for (const e of entries) {
      checkIndex('entry index', e.index, 1);
      checkIndex('entry term', e.term, 0);
      if (prev !== 0 && e.index !== prev + 1) {
        throw new StorageError('WAL_BAD_APPEND', `append of index ${e.index} after ${prev}: the log must stay contiguous (truncateSuffix first to overwrite)`);
      }
      if (e.data.length > RECORD_PAYLOAD_BYTES_MAX) {
        throw new StorageError('WAL_BAD_APPEND', `entry ${e.index} is ${e.data.length} bytes, over the ${RECORD_PAYLOAD_BYTES_MAX}-byte limit`);
      }
      prev = e.index;
    }
  }

  private enqueueControl(run: () => Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'control', run, resolve, reject });
    });
  }

  private enqueue(op: Op): void {
    this.queue.push(op);
    if (this.draining) return;
    this.draining = true;
    // Start once this turn of the event loop has read every socket that was ready, so that
    // all the writes it brought share the first fsync (which then blocks the loop, see
    // INLINE_SYNC_MAX_MS); starting on the first one's microtask gave groups of one.
    setImmediate(() => void this.drain());
  }

  /** Runs queued operations in order; never rejects (errors go to the operations' promises). */
  private async drain(): Promise<void> {
    try {
      for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
        if (this.failure !== null) {
          this.queue.shift();
          head.reject(this.failedError());
        } else if (head.kind === 'append') {
          await this.settle(this.takeGroup(), (group) => this.writeGroup(group));
        } else {
          this.queue.shift();
          await this.settle([head], () => head.run());
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The leading run of queued appends, up to GROUP_BYTES_MAX (at least one). */
  private takeGroup(): AppendOp[] {
    const group: AppendOp[] = [];
    let bytes = 0;
    for (let head = this.queue[0]; head?.kind === 'append'; head = this.queue[0]) {
      if (group.length > 0 && bytes + head.bytes.length > GROUP_BYTES_MAX) break;
      this.queue.shift();
      group.push(head);
      bytes += head.bytes.length;
    }
    return group;
  }

  private async settle<T extends Waiter>(waiters: T[], work: (waiters: T[]) => Promise<void>): Promise<void> {
    try {
      await work(waiters);
    } catch (err) {
      this.fail(err);
      for (const w of waiters) w.reject(this.failedError());
      return;
    }
    for (const w of waiters) w.resolve();
  }

  private fail(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.log.error({ err: this.failure, dir: this.dir }, 'write-ahead log I/O failed; refusing further writes until restart');
  }

  private failedError(): StorageError {
    const cause = this.failure as Error;
    return new StorageError('WAL_FAILED',
      `write-ahead log in ${this.dir} failed earlier (${cause.message}); its on-disk state is uncertain, so it takes no more writes: restart to recover from disk`,
      { cause });
  }

  /** One write and one fsync for the whole group, into the current segment or a new one. */
  private async writeGroup(group: AppendOp[]): Promise<void> {
    const first = group[0] as AppendOp;
    const last = group.at(-1) as AppendOp;
    const seg = this.segments.at(-1);
    if (seg !== undefined && first.firstIndex !== seg.lastIndex + 1) {
      // checkAppend makes this impossible; writing would leave a gap recovery refuses.
      throw new StorageError('WAL_BAD_APPEND', `internal: group starts at ${first.firstIndex} but the log ends at ${seg.lastIndex}`);
    }
    const body = group.length === 1 ? first.bytes : Buffer.concat(group.map((op) => op.bytes));
    if (seg === undefined || this.active === null || seg.sizeBytes >= this.segmentBytesMax) {
      await this.createSegment(first.firstIndex, body, last);
    } else {
      // The writes only copy into the page cache: done synchronously they save a thread-pool
      // round trip per group commit; the fsync that makes them durable stays asynchronous.
      writeAllSync(this.active.fd, body, seg.sizeBytes);
      const end = seg.sizeBytes + body.length;
      seg.fileBytes = this.pad(this.active.fd, end, body.length, seg.fileBytes);
      await this.syncData(this.active);
      seg.lastIndex = last.lastIndex;
      seg.lastTerm = last.lastTerm;
      seg.sizeBytes = end;
    }
    this.counters.groupCommits += 1;
    this.counters.bytesWritten += body.length;
  }

  /**
   * Writes the zero padding after a group that ends at `end` in a file of `fileBytes` when the
   * group reaches past the padding already there, and returns the file's size after the group.
   */
  private pad(fd: number, end: number, groupBytes: number, fileBytes: number): number {
    if (end <= fileBytes) return fileBytes;
    // No padding for large groups, nor past the size at which the segment is closed.
    const step = Math.min(this.padBytes, Math.max(WAL_PAD_FIRST_BYTES, end));
    const size = Math.min(end + step, Math.max(end, this.segmentBytesMax));
    if (groupBytes > this.padBytes || size === end) return end;
    for (let at = end; at < size; at += ZERO_CHUNK.length) writeAllSync(fd, ZERO_CHUNK.subarray(0, Math.min(ZERO_CHUNK.length, size - at)), at);
    return size;
  }

  private async createSegment(firstIndex: number, body: Buffer, last: AppendOp): Promise<void> {
    const file = join(this.dir, segmentFileName(firstIndex));
    const fh = await open(file, 'wx');
    const sizeBytes = SEGMENT_HEADER_BYTES + body.length;
    let fileBytes: number;
    try {
      await writeAll(fh, Buffer.concat([encodeSegmentHeader(firstIndex), body]), 0);
      fileBytes = this.pad(fh.fd, sizeBytes, body.length, 0);
      await this.syncData(fh);
      // The new directory entry must be durable too, or the whole segment can vanish on a crash.
      await this.syncDir();
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    await this.closeActive();
    this.active = fh;
    this.segments.push({ file, firstIndex, lastIndex: last.lastIndex, lastTerm: last.lastTerm, sizeBytes, fileBytes });
    this.log.debug({ file }, 'write-ahead log segment created');
  }

  private async runTruncateSuffix(fromIndex: number): Promise<void> {
    // Newest first, and the directory synced before the survivor is cut, so that a crash at
    // any point leaves a contiguous prefix of the log, never a gap.
    let removed = false;
    for (let seg = this.segments.at(-1); seg !== undefined && seg.firstIndex >= fromIndex; seg = this.segments.at(-1)) {
      await this.closeActive();
      await unlink(seg.file);
      this.segments.pop();
      removed = true;
    }
    if (removed) await this.syncDir();
    const seg = this.segments.at(-1);
    if (seg === undefined) return;
    if (this.active === null) this.active = await open(seg.file, 'r+');
    if (seg.lastIndex >= fromIndex) await this.cutSegment(this.active, seg, fromIndex);
  }

  /** Truncates the newest segment just before the record with index fromIndex. */
  private async cutSegment(fh: FileHandle, seg: SegmentInfo, fromIndex: number): Promise<void> {
    const buf = await readSegmentFile(seg.file);
    let cutAt = -1;
    let termBefore = 0;
    scanSegment(buf.subarray(0, seg.sizeBytes), {
      file: seg.file,
      nameIndex: seg.firstIndex,
      isLast: false,
      expectedFirstIndex: seg.firstIndex,
      payloadBytesMax: RECORD_PAYLOAD_BYTES_MAX,
      onRecord: (term, index, recordStart) => {
        if (index === fromIndex - 1) termBefore = term;
        if (index === fromIndex) cutAt = recordStart;
      },
    });
    if (cutAt < SEGMENT_HEADER_BYTES) throw new StorageError('WAL_BAD_APPEND', `internal: index ${fromIndex} not found in ${seg.file}`);
    await fh.truncate(cutAt);
    // fsync, not fdatasync: the change is to the file size.
    if (this.fsync) {
      await fh.sync();
      this.counters.fsyncs += 1;
    }
    seg.lastIndex = fromIndex - 1;
    seg.lastTerm = termBefore;
    seg.sizeBytes = cutAt;
    seg.fileBytes = cutAt;
  }

  private async runCompactPrefix(uptoIndex: number): Promise<void> {
    // Oldest first, so a crash part-way leaves a contiguous suffix.
    let removed = false;
    for (let seg = this.segments[0]; seg !== undefined && this.segments.length > 1 && seg.lastIndex <= uptoIndex; seg = this.segments[0]) {
      await unlink(seg.file);
      this.segments.shift();
      removed = true;
    }
    if (removed) await this.syncDir();
  }

  private async closeActive(): Promise<void> {
    const fh = this.active;
    this.active = null;
    await fh?.close();
  }

  private async syncData(fh: FileHandle): Promise<void> {
    if (!this.fsync) return;
    const started = performance.now();
    if (started >= this.poolSyncUntil) {
      fdatasyncSync(fh.fd);
      const ms = performance.now() - started;
      if (ms > this.inlineSyncMaxMs) {
        this.poolSyncUntil = performance.now() + INLINE_SYNC_BACKOFF_MS;
        this.log.info({ fsyncMs: Math.round(ms * 10) / 10, dir: this.dir, poolForMs: INLINE_SYNC_BACKOFF_MS },
          'slow fsync held up the event loop; fsyncs run on the thread pool for a while');
      }
    } else {
      // fs.fdatasync, not fh.datasync(): the promise API's call costs the main thread ~22 µs
      // against ~12 (queueing the thread-pool job), once per group commit.
      await new Promise<void>((resolve, reject) => fdatasync(fh.fd, (err) => (err ? reject(err) : resolve())));
      this.counters.poolSyncs += 1;
    }
    this.counters.fsyncs += 1;
  }

  private async syncDir(): Promise<void> {
    if (!this.fsync) return;
    await fsyncDir(this.dir);
    this.counters.fsyncs += 1;
  }
}
