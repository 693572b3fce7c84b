// Snapshot files: atomic save (whole buffer or streamed chunks), checksum-verified load with
// fallback past a damaged newest snapshot, listing and retention.
import test from 'ava';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/platform/log.js';
import { StorageCorruptionError, StorageError } from '../../src/storage/errors.js';
import { SnapshotStore, verifySnapshot } from '../../src/storage/snapshot.js';
import { captureLog, prng, tempDir } from './fixtures.js';

function store(dir: string, log = silentLogger()): SnapshotStore {
  return new SnapshotStore({ dir, fsync: true, log });
}

async function* chunked(parts: Buffer[]): AsyncIterable<Buffer> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
}

test('a saved snapshot loads back with its meta', async (t) => {
  const dir = await tempDir(t);
  const s = store(join(dir, 'snaps')); // created on first save
  t.is(await s.loadLatest(), null);
  t.deepEqual(await s.list(), []);
  const saved = await s.save({ index: 42, term: 3 }, Buffer.from('the whole tree'));
  t.is(saved.file, join(dir, 'snaps', 'snapshot.00000000000000000042.00000000000000000003'));
  t.is(saved.bytes, 24 + 14 + 12);
  const loaded = await s.loadLatest();
  t.deepEqual(loaded?.meta, { index: 42, term: 3 });
  t.is(loaded?.data.toString(), 'the whole tree');
  t.is(loaded?.file, saved.file);
  t.is(await s.sizeBytes(), saved.bytes);
});

test('a snapshot streamed in chunks equals the concatenated chunks', async (t) => {
  const dir = await tempDir(t);
  const s = store(dir);
  const rand = prng(7);
  const parts = Array.from({ length: 300 }, (_, i) => Buffer.from(Array.from({ length: (i * 37) % 9000 }, () => Math.floor(rand() * 256))));
  parts.push(Buffer.alloc(3 * 1024 * 1024, 0xab)); // one chunk bigger than the write buffer
  await s.save({ index: 1000, term: 9 }, chunked(parts));
  const loaded = await s.loadLatest();
  t.true(loaded?.data.equals(Buffer.concat(parts)));
});

test('a damaged newest snapshot is reported and the next older one is used', async (t) => {
  const dir = await tempDir(t);
  const { log, lines } = captureLog();
  const s = store(dir, log);
  await s.save({ index: 10, term: 1 }, Buffer.from('ten'));
  await s.save({ index: 20, term: 2 }, Buffer.from('twenty'));
  const newest = await s.save({ index: 30, term: 2 }, Buffer.from('thirty'));
  const bytes = await readFile(newest.file);
  bytes[26] = (bytes[26] as number) ^ 0xff;
  await writeFile(newest.file, bytes);

  const loaded = await s.loadLatest();
  t.deepEqual(loaded?.meta, { index: 20, term: 2 });
  t.is(loaded?.data.toString(), 'twenty');
  const warn = lines.find((l) => l.level === 40);
  t.is(warn?.['file'], newest.file);
  t.regex(warn?.msg ?? '', /checksum mismatch/);
  t.throws(() => verifySnapshot(bytes, newest.file, { index: 30, term: 2 }), { instanceOf: StorageCorruptionError });
});

test('a truncated or foreign snapshot falls back too, and none valid means null', async (t) => {
  const dir = await tempDir(t);
  const s = store(dir);
  const only = await s.save({ index: 5, term: 1 }, Buffer.from('five'));
  await writeFile(join(dir, 'snapshot.00000000000000000009.00000000000000000001'), 'ZKSN not ours');
  t.is((await s.loadLatest())?.meta.index, 5);
  await writeFile(only.file, (await readFile(only.file)).subarray(0, 30));
  t.is(await s.loadLatest(), null);
  // A meta that disagrees with the file name is damage as well.
  const good = await s.save({ index: 7, term: 1 }, Buffer.from('seven'));
  t.throws(() => verifySnapshot(Buffer.from(''), good.file, { index: 7, term: 1 }), { message: /only 0 bytes/ });
});

test('purge keeps at least three newest snapshots and returns the oldest kept', async (t) => {
  const dir = await tempDir(t);
  const s = store(dir);
  t.is(await s.purge(3), null);
  for (const index of [100, 200, 300, 400, 500, 600]) await s.save({ index, term: 1 }, Buffer.from(String(index)));
  t.deepEqual(await s.purge(5), { index: 200, term: 1 });
  t.deepEqual((await s.list()).map((m) => m.index), [200, 300, 400, 500, 600]);
  t.deepEqual(await s.purge(1), { index: 400, term: 1 }); // below the minimum of 3
  t.deepEqual((await s.list()).map((m) => m.index), [400, 500, 600]);
  t.is((await s.loadLatest())?.data.toString(), '600');
});

test('a failed save leaves no file behind, and stale temp files are cleaned up', async (t) => {
  const dir = await tempDir(t);
  const s = store(dir);
  async function* failing(): AsyncIterable<Buffer> {
    yield Buffer.from('part');
    throw new Error('tree walk failed');
  }
  await t.throwsAsync(s.save({ index: 1, term: 1 }, failing()), { message: 'tree walk failed' });
  t.deepEqual(await readdir(dir), []);
  await writeFile(join(dir, 'snapshot.00000000000000000002.00000000000000000001.tmp-1-1'), 'left by a crash');
  t.is(await s.loadLatest(), null);
  t.deepEqual(await readdir(dir), []);
  await t.throwsAsync(s.save({ index: -1, term: 1 }, Buffer.from('x')), { instanceOf: StorageError });
});
