// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and
// most log formats. Node 20's zlib has no crc32, so the tables are built here once.
// Slicing-by-8: eight table lookups consume eight bytes per step (several times faster than
// one byte per step, and the checksum is on every logged write).
// Incremental: crc32c(b, crc32c(a)) === crc32c(concat(a, b)).

const POLY_REFLECTED = 0x82f63b78;

/** TABLES[k * 256 + n]: the CRC of byte n followed by k zero bytes. */
const TABLES = ((): Uint32Array => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n] as number;
      t[k * 256 + n] = ((prev >>> 8) ^ (t[prev & 0xff] as number)) >>> 0;
    }
  }
  return t;
})();

/** Checksum of bytes [start, end) of data, continuing from a previous result `crc` (0 to begin). */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  // Indexes below are always in range (masked to 0..255 within a 2048-entry table, or < end).
  for (; i + 8 <= end; i += 8) {
    const one = (c ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24))) >>> 0;
    const two = ((data[i + 4] as number) | ((data[i + 5] as number) << 8) | ((data[i + 6] as number) << 16) | ((data[i + 7] as number) << 24)) >>> 0;
    c =
      (t[1792 + (one & 0xff)] as number) ^
      (t[1536 + ((one >>> 8) & 0xff)] as number) ^
      (t[1280 + ((one >>> 16) & 0xff)] as number) ^
      (t[1024 + (one >>> 24)] as number) ^
      (t[768 + (two & 0xff)] as number) ^
      (t[512 + ((two >>> 8) & 0xff)] as number) ^
      (t[256 + ((two >>> 16) & 0xff)] as number) ^
      (t[two >>> 24] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
