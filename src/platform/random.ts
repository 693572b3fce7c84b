// Random bytes for session passwords, read from the kernel's generator (/dev/urandom) in blocks:
// the same source OpenSSL seeds from, without loading node:crypto at start-up (~2 ms) or paying
// a randomBytes() call per session (~11 µs in a churn profile). Where /dev/urandom cannot be
// opened (Windows), node:crypto fills the block instead.
import * as fs from 'node:fs';
import { nodeCrypto } from './builtins.js';

const BLOCK_BYTES = 4096;
const block = Buffer.alloc(BLOCK_BYTES);
let used = BLOCK_BYTES;

function refill(): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync('/dev/urandom', 'r');
    let filled = 0;
    while (filled < BLOCK_BYTES) {
      const n = fs.readSync(fd, block, filled, BLOCK_BYTES - filled, null);
      if (n <= 0) throw new Error('/dev/urandom returned no bytes');
      filled += n;
    }
  } catch {
    nodeCrypto().randomFillSync(block);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  used = 0;
}

/** `n` fresh random bytes (n at most 4096), in a buffer of their own. */
export function randomBytes(n: number): Buffer {
  if (n > BLOCK_BYTES) throw new RangeError(`at most ${BLOCK_BYTES} random bytes at a time, asked for ${n}`);
  if (used + n > BLOCK_BYTES) refill();
  const out = Buffer.from(block.subarray(used, used + n));
  used += n;
  return out;
}
