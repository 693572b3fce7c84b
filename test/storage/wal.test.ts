// Write-ahead log: round trips, group commit, Raft truncation and compaction, and the
// recovery policy (torn tail dropped with a warning, damage elsewhere stops start-up).
import test from 'ava';
import { readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/platform/log.js';
import { StorageCorruptionError, StorageError } from '../../src/storage/errors.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../../src/storage/segment.js';
import { WAL_PAD_BYTES, WAL_PAD_FIRST_BYTES, WriteAheadLog } from '../../src/storage/wal.js';
import type { WalOptions } from '../../src/storage/wal.js';
import { captureLog, entries, entry, segmentFiles, summary, tempDir } from './fixtures.js';

function opts(dir: string, extra: Partial<WalOptions> = {}): WalOptions {
  return { dir, fsync: false, log: silentLogger(), ...extra };
}

/** Offset of the record with `index` in a single segment starting at 1 built from entries(). */
function recordOffset(index: number): number {
  let at = SEGMENT_HEADER_BYTES;
  for (let i = 1; i < index; i++) at += RECORD_HEADER_BYTES + `entry-${i}`.length;
  return at;
}

/** Appends from..to in batches of three (a batch never spans two segments). */
async function writeLog(dir: string, from: number, to: number, extra: Partial<WalOptions> = {}): Promise<void> {
  const { wal } = await WriteAheadLog.open(opts(dir, extra));
  for (let i = from; i <= to; i += 3) await wal.append(entries(i, Math.min(i + 2, to)));
  await wal.close();
}

test('entries survive a reopen across several segments', async (t) => {
  const dir = await tempDir(t);
  const { wal, entries: recovered, tornTail } = await WriteAheadLog.open(opts(dir, { fsync: true, segmentBytesMax: 200 }));
  t.deepEqual(recovered, []);
  t.is(tornTail, null);
  t.is(wal.lastIndex, 0);
  for (let i = 1; i <= 40; i += 4) await wal.append(entries(i, i + 3, Math.ceil(i / 10)));
  t.is(wal.firstIndex, 1);
  t.is(wal.lastIndex, 40);
  t.is(wal.lastTerm, 4);
  await wal.close();

  t.true((await segmentFiles(dir)).length >= 4);
  const again = await WriteAheadLog.open(opts(dir, { segmentBytesMax: 200 }));
  t.deepEqual(summary(again.entries), summary(Array.from({ length: 10 }, (_, k) => entries(4 * k + 1, 4 * k + 4, Math.ceil((4 * k + 1) / 10))).flat()));
  t.is(again.tornTail, null);
  t.is(again.wal.lastIndex, 40);
  t.is(again.wal.lastTerm, 4);
  await again.wal.append([entry(41, 5)]);
  await again.wal.close();
});

test('concurrent appends resolve in order and share fsyncs (group commit)', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await WriteAheadLog.open(opts(dir, { fsync: true }));
  const resolved: number[] = [];
  const first = wal.append([entry(1)]).then(() => resolved.push(1));
  // Let the first write start, then pile up more while it is in flight.
  await new Promise((r) => setImmediate(r));
  const rest = [];
  for (let i = 2; i <= 200; i++) rest.push(wal.append([entry(i)]).then(() => resolved.push(i)));
  await Promise.all([first, ...rest]);
  t.deepEqual(resolved, Array.from({ length: 200 }, (_, k) => k + 1));
  const stats = wal.stats;
  t.true(stats.groupCommits <= 3, `groupCommits ${stats.groupCommits}`);
  // One fdatasync per group plus one directory fsync for the new segment.
  t.is(stats.fsyncs, stats.groupCommits + 1);
  await wal.close();
  const again = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(again.entries), summary(entries(1, 200)));
  await again.wal.close();
});

test('group commits fsync on the event loop until one is slow, then on the thread pool, and stay durable either way', async (t) => {
  const dir = await tempDir(t);
  const fast = await WriteAheadLog.open(opts(dir, { fsync: true, inlineSyncMaxMs: Number.POSITIVE_INFINITY }));
  for (let i = 1; i <= 5; i++) await fast.wal.append([entry(i)]);
  t.is(fast.wal.stats.poolSyncs, 0, 'quick fsyncs stay on the loop');
  await fast.wal.close();

  // Every fsync "too slow": the first one (on the loop) sends the next ones to the pool.
  const { log, lines } = captureLog();
  const slow = await WriteAheadLog.open(opts(dir, { fsync: true, inlineSyncMaxMs: 0, log }));
  for (let i = 6; i <= 9; i++) await slow.wal.append([entry(i)]);
  const stats = slow.wal.stats;
  t.is(stats.poolSyncs, 3, 'all but the first fsync ran on the thread pool');
  t.is(lines.filter((l) => l.msg.startsWith('slow fsync held up the event loop')).length, 1, 'said once, not per write');
  await slow.wal.close();
  const again = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(again.entries), summary(entries(1, 9)));
  await again.wal.close();
});

test('appends that would leave a gap or overlap are refused without changing the log', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await WriteAheadLog.open(opts(dir));
  await wal.append(entries(1, 3));
  const gap = await t.throwsAsync(wal.append([entry(5)]), { instanceOf: StorageError });
  t.is(gap.code, 'WAL_BAD_APPEND');
  await t.throwsAsync(wal.append([entry(3)]), { message: /index 3 after 3/ });
  await t.throwsAsync(wal.append([entry(4), entry(6)]), { message: /index 6 after 4/ });
  await wal.append([entry(4)]);
  t.is(wal.lastIndex, 4);
  await wal.close();
  const closed = await t.throwsAsync(wal.append([entry(5)]), { instanceOf: StorageError });
  t.is(closed.code, 'WAL_CLOSED');
});

test('a record cut off mid-write is dropped with a warning and appending goes on', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 10);
  const [name] = await segmentFiles(dir);
  const file = join(dir, name as string);
  await truncate(file, recordOffset(10) + 7);

  const { log, lines } = captureLog();
  const { wal, entries: recovered, tornTail } = await WriteAheadLog.open(opts(dir, { log }));
  t.deepEqual(summary(recovered), summary(entries(1, 9)));
  t.deepEqual(tornTail, { file, offset: recordOffset(10), bytesDropped: 7 });
  const warn = lines.find((l) => l.level === 40);
  t.truthy(warn);
  t.is(warn?.['file'], file);
  t.is(warn?.['offset'], recordOffset(10));
  t.regex(warn?.msg ?? '', /torn/);
  t.is((await stat(file)).size, recordOffset(10));

  await wal.append(entries(10, 12, 2));
  await wal.close();
  const again = await WriteAheadLog.open(opts(dir));
  t.is(again.tornTail, null);
  t.deepEqual(summary(again.entries), summary([...entries(1, 9), ...entries(10, 12, 2)]));
  await again.wal.close();
});

test('the zero padding after the last record is a clean end, and appends go on inside it', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 5);
  const file = join(dir, (await segmentFiles(dir))[0] as string);
  t.is((await stat(file)).size, recordOffset(4) + WAL_PAD_FIRST_BYTES, 'a young segment is padded in a small step');
  const { wal, entries: recovered, tornTail } = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(recovered), summary(entries(1, 5)));
  t.is(tornTail, null);
  await wal.append([entry(6)]);
  await wal.close();
  t.is((await stat(file)).size, recordOffset(4) + WAL_PAD_FIRST_BYTES, 'a small group inside the padding does not grow the file');
  const again = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(again.entries), summary(entries(1, 6)));
  t.is(again.tornTail, null);
  await again.wal.close();
});

test('the padding is extended once a group reaches past it; a group larger than a step is not padded', async (t) => {
  const dir = await tempDir(t);
  const padBytes = 256;
  const { wal } = await WriteAheadLog.open(opts(dir, { padBytes }));
  await wal.append([entry(1)]);
  const file = join(dir, (await segmentFiles(dir))[0] as string);
  t.is((await stat(file)).size, recordOffset(2) + padBytes);
  await wal.append(entries(2, 5));
  t.is((await stat(file)).size, recordOffset(2) + padBytes, 'still inside the padding');
  await wal.append(entries(6, 12));
  t.is((await stat(file)).size, recordOffset(13) + padBytes);
  const big = entry(13, 1, 'x'.repeat(padBytes));
  await wal.append([big]);
  const end = recordOffset(13) + RECORD_HEADER_BYTES + padBytes;
  t.is((await stat(file)).size, end, 'no zeros after a group larger than the step');
  await wal.append([entry(14)]);
  t.is((await stat(file)).size, end + RECORD_HEADER_BYTES + 'entry-14'.length + padBytes);
  await wal.close();
  const again = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(again.entries), summary([...entries(1, 12), big, entry(14)]));
  await again.wal.close();
});

test('padding steps grow with the segment up to WAL_PAD_BYTES', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await WriteAheadLog.open(opts(dir));
  const payload = 'p'.repeat(30 * 1024);
  const steps = new Set<number>();
  let fileBytes = 0;
  let dataEnd = SEGMENT_HEADER_BYTES;
  let file = '';
  for (let i = 1; i <= 80; i++) {
    await wal.append([entry(i, 1, payload)]);
    dataEnd += RECORD_HEADER_BYTES + payload.length;
    file ||= join(dir, (await segmentFiles(dir))[0] as string);
    const size = (await stat(file)).size;
    if (size !== fileBytes) steps.add(size - dataEnd);
    fileBytes = size;
    t.true(size - dataEnd >= 0 && size - dataEnd <= WAL_PAD_BYTES);
  }
  t.true(steps.has(WAL_PAD_FIRST_BYTES), 'a young segment gets the small step');
  t.true(steps.has(WAL_PAD_BYTES), 'a grown one gets whole steps');
  await wal.close();
});

// A write torn by a crash lands in the padding: damaged bytes after the last record, zeros after them.
for (const [what, tail] of [
  ['garbage bytes', Buffer.from('this is not a record, just noise after the last one')],
  ['a header with an absurd length', Buffer.from('ffffffff0000000000000000000000010000000000000005', 'hex')],
  ['a record header whose payload never reached the disk', Buffer.from('00000008000000000000000000000001000000000000000668', 'hex')],
] as const) {
  for (const padded of [true, false]) {
    test(`a tail of ${what} is a torn tail (${padded ? 'written into the padding' : 'log without padding'})`, async (t) => {
      const dir = await tempDir(t);
      const extra: Partial<WalOptions> = padded ? {} : { padBytes: 0 };
      await writeLog(dir, 1, 5, extra);
      const file = join(dir, (await segmentFiles(dir))[0] as string);
      const bytes = await readFile(file);
      t.is(bytes.length, padded ? recordOffset(4) + WAL_PAD_FIRST_BYTES : recordOffset(6));
      await writeFile(file, padded ? Buffer.concat([bytes.subarray(0, recordOffset(6)), tail, bytes.subarray(recordOffset(6) + tail.length)]) : Buffer.concat([bytes, tail]));
      const { log, lines } = captureLog();
      const { wal, entries: recovered, tornTail } = await WriteAheadLog.open(opts(dir, { ...extra, log }));
      t.deepEqual(summary(recovered), summary(entries(1, 5)));
      t.deepEqual(tornTail, { file, offset: recordOffset(6), bytesDropped: tail.length }, 'the zeros after the damage are not counted as dropped');
      t.regex(lines.find((l) => l.level === 40)?.msg ?? '', new RegExp(`dropping ${tail.length} bytes`));
      t.is((await stat(file)).size, recordOffset(6));
      await wal.append([entry(6)]);
      t.is(wal.lastIndex, 6);
      await wal.close();
      const again = await WriteAheadLog.open(opts(dir, extra));
      t.deepEqual(summary(again.entries), summary(entries(1, 6)));
      t.is(again.tornTail, null);
      await again.wal.close();
    });
  }
}

test('zero padding after the last record of an older segment is not damage', async (t) => {
  const dir = await tempDir(t);
  // Written with large segments, then reopened with small ones: the padded segment becomes an old one.
  await writeLog(dir, 1, 6, { padBytes: 200 });
  await writeLog(dir, 7, 30, { segmentBytesMax: 100, padBytes: 200 });
  const names = await segmentFiles(dir);
  t.true(names.length >= 3);
  const first = await readFile(join(dir, names[0] as string));
  t.is(first.length, recordOffset(4) + 200);
  t.is(first.at(-1), 0, 'the oldest segment ends in padding');
  const { wal, entries: recovered, tornTail } = await WriteAheadLog.open(opts(dir, { segmentBytesMax: 100 }));
  t.deepEqual(summary(recovered), summary(entries(1, 30)));
  t.is(tornTail, null);
  await wal.close();
});

test('a newest segment whose header was torn is removed', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 5);
  const file = join(dir, 'wal-00000000000000000006.log');
  await writeFile(file, Buffer.from('5a52', 'hex'));
  const { wal, entries: recovered, tornTail } = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(recovered), summary(entries(1, 5)));
  t.deepEqual(tornTail, { file, offset: 0, bytesDropped: 2 });
  t.deepEqual(await segmentFiles(dir), ['wal-00000000000000000001.log']);
  await wal.append([entry(6)]);
  await wal.close();
});

test('a damaged record followed by valid ones stops start-up, naming file and offset', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 10);
  const file = join(dir, (await segmentFiles(dir))[0] as string);
  const bytes = await readFile(file);
  const at = recordOffset(3) + RECORD_HEADER_BYTES + 2; // inside entry 3's payload
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await writeFile(file, bytes);
  const err = await t.throwsAsync(WriteAheadLog.open(opts(dir)), { instanceOf: StorageCorruptionError });
  t.is(err.file, file);
  t.is(err.offset, recordOffset(3));
  t.is(err.code, 'WAL_BAD_RECORD');
  t.regex(err.message, /checksum mismatch/);
  t.regex(err.message, new RegExp(`index 4 follows at offset ${recordOffset(4)}`));
  t.regex(err.message, /replica|move the damaged file aside/);
});

test('a damaged length field in the middle is corruption too, not a torn tail', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 10);
  const file = join(dir, (await segmentFiles(dir))[0] as string);
  const bytes = await readFile(file);
  bytes.writeUInt32BE(0x00ffffff, recordOffset(2));
  await writeFile(file, bytes);
  const err = await t.throwsAsync(WriteAheadLog.open(opts(dir)), { instanceOf: StorageCorruptionError });
  t.is(err.offset, recordOffset(2));
  t.regex(err.message, /runs past the end/);
});

test('damage at the end of a segment that is not the newest stops start-up', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 30, { segmentBytesMax: 100 });
  const names = await segmentFiles(dir);
  t.true(names.length >= 3);
  const file = join(dir, names[0] as string);
  const { size } = await stat(file);
  await truncate(file, size - 1);
  const err = await t.throwsAsync(WriteAheadLog.open(opts(dir)), { instanceOf: StorageCorruptionError });
  t.is(err.file, file);
  t.regex(err.message, /not the newest/);
});

test('a missing segment in the middle is an index gap', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 30, { segmentBytesMax: 100 });
  const names = await segmentFiles(dir);
  await unlink(join(dir, names[1] as string));
  const err = await t.throwsAsync(WriteAheadLog.open(opts(dir)), { instanceOf: StorageCorruptionError });
  t.is(err.code, 'WAL_INDEX_GAP');
  t.is(err.file, join(dir, names[2] as string));
});

test('a foreign file under a segment name is refused clearly', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'wal-00000000000000000001.log'), Buffer.from('ZKLG\0\0\0\x02 a ZooKeeper transaction log'));
  const err = await t.throwsAsync(WriteAheadLog.open(opts(dir)), { instanceOf: StorageCorruptionError });
  t.is(err.code, 'WAL_FOREIGN_FILE');
  t.regex(err.message, /not a zooraft log segment/);
});

test('truncateSuffix drops the conflicting suffix durably, then appends continue', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await WriteAheadLog.open(opts(dir, { fsync: true, segmentBytesMax: 100 }));
  await wal.append(entries(1, 30));
  await wal.append(entries(31, 40));
  const before = (await segmentFiles(dir)).length;
  await wal.truncateSuffix(35);
  t.is(wal.lastIndex, 34);
  t.is(wal.lastTerm, 1);
  await wal.truncateSuffix(12);
  t.is(wal.lastIndex, 11);
  t.true((await segmentFiles(dir)).length < before);
  await wal.append(entries(12, 15, 2));
  t.is(wal.lastTerm, 2);
  await wal.truncateSuffix(99); // beyond the end: nothing to do
  t.is(wal.lastIndex, 15);
  t.is(await wal.sizeBytes(), (await Promise.all((await segmentFiles(dir)).map(async (n) => (await stat(join(dir, n))).size))).reduce((a, b) => a + b, 0));
  await wal.close();
  const again = await WriteAheadLog.open(opts(dir, { segmentBytesMax: 100 }));
  t.deepEqual(summary(again.entries), summary([...entries(1, 11), ...entries(12, 15, 2)]));
  await again.wal.close();
});

test('operations queued without waiting run in call order', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await WriteAheadLog.open(opts(dir));
  const done = [wal.append(entries(1, 5)), wal.truncateSuffix(3), wal.append(entries(3, 4, 2)), wal.truncateSuffix(1), wal.append(entries(7, 8, 3))];
  await Promise.all(done);
  t.is(wal.firstIndex, 7);
  t.is(wal.lastIndex, 8);
  await wal.close();
  const again = await WriteAheadLog.open(opts(dir));
  t.deepEqual(summary(again.entries), summary(entries(7, 8, 3)));
  await again.wal.close();
});

test('compactPrefix deletes only segments wholly covered, never the newest', async (t) => {
  const dir = await tempDir(t);
  const { wal } = await WriteAheadLog.open(opts(dir, { segmentBytesMax: 100 }));
  for (let i = 1; i <= 30; i += 3) await wal.append(entries(i, i + 2));
  const names = await segmentFiles(dir);
  const firstIndexes = names.map((n) => Number(n.slice(4, 24)));
  const third = firstIndexes[2] as number;
  // Up to one entry short of the third segment's end: the first two go, the third stays.
  const fourth = firstIndexes[3] as number;
  await wal.compactPrefix(fourth - 2);
  t.deepEqual(await segmentFiles(dir), names.slice(2));
  t.is(wal.firstIndex, third);
  await wal.compactPrefix(wal.lastIndex);
  t.deepEqual(await segmentFiles(dir), names.slice(-1));
  t.is(wal.lastIndex, 30);
  await wal.close();
  const again = await WriteAheadLog.open(opts(dir, { segmentBytesMax: 100 }));
  t.is(again.wal.firstIndex, firstIndexes.at(-1) as number);
  t.is(again.wal.lastIndex, 30);
  await again.wal.close();
});

test('open with afterIndex returns only entries after the snapshot', async (t) => {
  const dir = await tempDir(t);
  await writeLog(dir, 1, 30, { segmentBytesMax: 100 });
  const r = await WriteAheadLog.open(opts(dir), 17);
  t.deepEqual(summary(r.entries), summary(entries(18, 30)));
  t.is(r.wal.firstIndex, 1);
  await r.wal.compactPrefix(17);
  const firstIndex = r.wal.firstIndex;
  t.true(firstIndex > 1 && firstIndex <= 18);
  await r.wal.close();
  const beyond = await WriteAheadLog.open(opts(dir), 40);
  t.deepEqual(beyond.entries, []);
  t.is(beyond.wal.lastIndex, 30);
  await beyond.wal.close();
  // A snapshot older than the start of the log leaves entries nobody has.
  const err = await t.throwsAsync(WriteAheadLog.open(opts(dir), firstIndex - 2), { instanceOf: StorageCorruptionError });
  t.is(err.code, 'WAL_INDEX_GAP');
});
