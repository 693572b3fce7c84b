import test from 'ava';
import { randomBytes } from '../../src/platform/random.js';

test('random bytes come in buffers of their own, fresh across the 4 KiB blocks read from the kernel', (t) => {
  const seen = new Set<string>();
  // 600 × 16 bytes spans three blocks.
  for (let i = 0; i < 600; i++) {
    const b = randomBytes(16);
    t.is(b.length, 16);
    seen.add(b.toString('hex'));
  }
  t.is(seen.size, 600);
  const a = randomBytes(16);
  const copy = Buffer.from(a);
  randomBytes(16);
  t.deepEqual(a, copy, 'a later call does not change bytes already handed out');
});

test('random bytes are spread over all values, not a fixed pattern', (t) => {
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < 256; i++) for (const byte of randomBytes(64)) counts[byte] = (counts[byte] ?? 0) + 1;
  // 16,384 bytes, 64 expected per value: a working generator stays far inside these bounds.
  t.true(Math.min(...counts) > 20 && Math.max(...counts) < 120, `min ${Math.min(...counts)} max ${Math.max(...counts)}`);
});

test('more than a block at once is refused', (t) => {
  t.throws(() => randomBytes(4097), { instanceOf: RangeError });
});
