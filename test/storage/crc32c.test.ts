// CRC32C against the standard check value, and incremental use.
import test from 'ava';
import { crc32c } from '../../src/storage/crc32c.js';

test('crc32c matches the published check value and works incrementally', (t) => {
  const data = Buffer.from('123456789');
  t.is(crc32c(data), 0xe3069283); // the CRC-32C "check" value from the CRC catalogue
  t.is(crc32c(Buffer.alloc(0)), 0);
  t.is(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  t.is(crc32c(data.subarray(4), crc32c(data.subarray(0, 4))), 0xe3069283);
  t.is(crc32c(data, crc32c(data, 0, 0, 3), 3, 9), 0xe3069283);
});
