// Raft hard state: default when absent, atomic round trip, damage detected, saves ordered.
import test from 'ava';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/platform/log.js';
import { StorageCorruptionError } from '../../src/storage/errors.js';
import { HARD_STATE_FILE, HardStateStore, decodeHardState, encodeHardState } from '../../src/storage/hard-state.js';
import { tempDir } from './fixtures.js';

test('an absent hard state loads as term 0 with no vote', async (t) => {
  const dir = await tempDir(t);
  t.deepEqual(await new HardStateStore({ dir: join(dir, 'missing'), fsync: true, log: silentLogger() }).load(), { term: 0, votedFor: null });
});

test('hard state round-trips and the last save wins', async (t) => {
  const dir = await tempDir(t);
  const s = new HardStateStore({ dir, fsync: true, log: silentLogger() });
  await s.save({ term: 7, votedFor: 3 });
  t.deepEqual(await new HardStateStore({ dir, fsync: true, log: silentLogger() }).load(), { term: 7, votedFor: 3 });
  await Promise.all([s.save({ term: 8, votedFor: null }), s.save({ term: 9, votedFor: 2 }), s.save({ term: 2 ** 40, votedFor: 0 })]);
  t.deepEqual(await s.load(), { term: 2 ** 40, votedFor: 0 });
  t.deepEqual(await readdir(dir), [HARD_STATE_FILE]); // no temp files left
  t.deepEqual(decodeHardState(encodeHardState({ term: 1, votedFor: null }), 'x'), { term: 1, votedFor: null });
});

test('a damaged hard state stops start-up', async (t) => {
  const dir = await tempDir(t);
  const s = new HardStateStore({ dir, fsync: false, log: silentLogger() });
  await s.save({ term: 5, votedFor: 1 });
  const bytes = await readFile(s.file);
  bytes[15] = (bytes[15] as number) ^ 0x10;
  await writeFile(s.file, bytes);
  const err = await t.throwsAsync(s.load(), { instanceOf: StorageCorruptionError });
  t.is(err.code, 'HARD_STATE_CORRUPT');
  t.is(err.file, s.file);
  await writeFile(s.file, bytes.subarray(0, 10));
  await t.throwsAsync(s.load(), { message: /10 bytes, expected 28/ });
  await t.throwsAsync(s.save({ term: -1, votedFor: null }), { message: /bad hard state/ });
});
