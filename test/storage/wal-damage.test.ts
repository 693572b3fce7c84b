// Seeded damage to a log's only segment: truncation, bit flips, zeroed ranges and garbage
// tails, among the records and in the zero padding after them. Whatever the damage, recovery must either refuse with StorageCorruptionError or
// return an unbroken prefix of what was written; never another error, never a wrong entry.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../src/platform/log.js';
import { StorageCorruptionError } from '../../src/storage/errors.js';
import { WriteAheadLog } from '../../src/storage/wal.js';
import { entries, prng, segmentFiles, summary, tempDir } from './fixtures.js';

const SEED = 20240611;
const RUNS = 150;

/** `dataEnd`: where the records end and the log's zero padding begins. */
type Damage = (bytes: Buffer, rand: () => number, dataEnd: number) => Buffer;

const pick = (rand: () => number, n: number): number => Math.floor(rand() * n);
/** Damage lands among the records or just after them, where a torn write would. */
const where = (rand: () => number, dataEnd: number): number => pick(rand, dataEnd + 64);
const garbage = (rand: () => number): Buffer => Buffer.from(Array.from({ length: 1 + pick(rand, 100) }, () => pick(rand, 256)));

const DAMAGES: Record<string, Damage> = {
  truncate: (b, rand, dataEnd) => b.subarray(0, where(rand, dataEnd)),
  flip: (b, rand, dataEnd) => {
    const out = Buffer.from(b);
    const at = where(rand, dataEnd);
    out[at] = (out[at] as number) ^ (1 << pick(rand, 8));
    return out;
  },
  zeroRange: (b, rand, dataEnd) => {
    const out = Buffer.from(b);
    const at = where(rand, dataEnd);
    out.fill(0, at, Math.min(out.length, at + 1 + pick(rand, 64)));
    return out;
  },
  // A torn write: bytes of a record that never completed, in the padding after the last one.
  garbageInPadding: (b, rand, dataEnd) => {
    const out = Buffer.from(b);
    garbage(rand).copy(out, dataEnd);
    return out;
  },
  garbageAfterFileEnd: (b, rand) => Buffer.concat([b, garbage(rand)]),
};

test(`recovery from ${RUNS} seeded damages (seed ${SEED}) yields a prefix or a corruption error`, async (t) => {
  const dir = await tempDir(t);
  const written = entries(1, 20);
  const first = await WriteAheadLog.open({ dir, fsync: false, log: silentLogger() });
  await first.wal.append(written);
  await first.wal.close();
  const file = join(dir, (await segmentFiles(dir))[0] as string);
  const original = await readFile(file);
  let dataEnd = original.length;
  while (dataEnd > 0 && original[dataEnd - 1] === 0) dataEnd--;
  t.true(original.length - dataEnd > 1000, 'the log is padded');

  const rand = prng(SEED);
  const names = Object.keys(DAMAGES);
  const outcomes = { corrupt: 0, prefix: 0 };
  for (let run = 0; run < RUNS; run++) {
    const name = names[run % names.length] as string;
    await writeFile(file, (DAMAGES[name] as Damage)(original, rand, dataEnd));
    try {
      const r = await WriteAheadLog.open({ dir, fsync: false, log: silentLogger() });
      await r.wal.close();
      t.deepEqual(summary(r.entries), summary(written.slice(0, r.entries.length)), `run ${run} (${name})`);
      // A cut exactly at a record boundary is indistinguishable from a clean end; any other
      // damage that loses entries must be reported.
      if (r.entries.length < written.length && name !== 'truncate') t.not(r.tornTail, null, `run ${run} (${name}) lost entries silently`);
      outcomes.prefix += 1;
    } catch (err) {
      t.true(err instanceof StorageCorruptionError, `run ${run} (${name}): ${String(err)}`);
      outcomes.corrupt += 1;
    }
    // Recovery may have cut or removed the file; the next run starts from the original again.
  }
  // Both outcomes must actually occur, or the test is not exercising the policy.
  t.true(outcomes.corrupt > 10 && outcomes.prefix > 10, JSON.stringify(outcomes));
});
