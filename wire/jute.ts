// Jute binary encoding (ZooKeeper's BinaryInputArchive/BinaryOutputArchive):
// big-endian ints and longs, one-byte booleans, length-prefixed buffers,
// UTF-8 strings and vectors where a length of -1 means null.
// No I/O here: readers consume a Buffer, writers produce one.

/** Stable codes for codec failures, so callers can react without parsing messages. */
export type JuteErrorCode =
  | 'JUTE_UNDERFLOW'
  | 'JUTE_BAD_LENGTH'
  | 'JUTE_TRAILING_BYTES'
  | 'JUTE_BAD_VALUE'
  | 'FRAME_TOO_LARGE'
  | 'FRAME_BAD_LENGTH';

export class JuteError extends Error {
  readonly code: JuteErrorCode;
  constructor(code: JuteErrorCode, message: string) {
    super(message);
    this.name = 'JuteError';
    this.code = code;
  }
}

/** ZooKeeper's default jute.maxbuffer: 0xfffff bytes. */
export const JUTE_MAX_BUFFER_DEFAULT = 0xfffff;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export class JuteReader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;
  /** Largest string/buffer length accepted, checked before allocating. */
  private readonly lengthMax: number;

  constructor(buf: Buffer, start = 0, end = buf.length, lengthMax = JUTE_MAX_BUFFER_DEFAULT) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.lengthMax = lengthMax;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Consumes the next bytes if they equal `expected` (a record seen before); otherwise reads nothing. */
  skipIfNext(expected: Uint8Array): boolean {
    const n = expected.length;
    if (this.end - this.pos < n || this.buf.compare(expected, 0, n, this.pos, this.pos + n) !== 0) return false;
    this.pos += n;
    return true;
  }

  /** A copy of the bytes read since `start` (an earlier offset). */
  copySince(start: number): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos));
  }

  private need(bytes: number, what: string): void {
    if (this.end - this.pos < bytes) {
      throw new JuteError('JUTE_UNDERFLOW', `need ${bytes} bytes for ${what} at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  readInt(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  readLong(): bigint {
    this.need(8, 'long');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  readBool(): boolean {
    this.need(1, 'boolean');
    const v = this.buf[this.pos] !== 0;
    this.pos += 1;
    return v;
  }

  /** A length prefix; -1 is null, anything else must fit in what is left and under the limit. */
  private readLength(what: string, unitBytes: number): number {
    const len = this.readInt();
    if (len === -1) return -1;
    if (len < -1 || len > this.lengthMax || len * unitBytes > this.end - this.pos) {
      throw new JuteError('JUTE_BAD_LENGTH', `bad ${what} length ${len} at offset ${this.pos - 4} (${this.end - this.pos} bytes left)`);
    }
    return len;
  }

  /** Returns a copy so the record does not pin the whole network chunk in memory. */
  readBuffer(): Buffer | null {
    const len = this.readLength('buffer', 1);
    if (len === -1) return null;
    const out = Buffer.allocUnsafe(len);
    this.buf.copy(out, 0, this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A buffer field returned as a latin1 string (one char per byte), without a Buffer object. */
  readBufferAsLatin1(): string | null {
    const len = this.readLength('buffer', 1);
    if (len === -1) return null;
    const s = this.buf.toString('latin1', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  readUString(): string | null {
    const len = this.readLength('string', 1);
    if (len === -1) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** Vector length; each element is at least one byte, which bounds the count before allocating. */
  readVectorLength(): number {
    return this.readLength('vector', 1);
  }

  /** Some records gained optional trailing fields (ConnectRequest.readOnly): read one only if present. */
  hasMore(): boolean {
    return this.pos < this.end;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new JuteError('JUTE_TRAILING_BYTES', `${this.end - this.pos} trailing bytes after ${what}`);
    }
  }
}

const ASCII_FAST_PATH_CHARS_MAX = 128;

const longScratch = new DataView(new ArrayBuffer(8));
const longScratchBytes = new Uint8Array(longScratch.buffer);

export class JuteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  writeInt(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new JuteError('JUTE_BAD_VALUE', `int out of range: ${v}`);
    }
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  writeLong(v: bigint): void {
    if (v < INT64_MIN || v > INT64_MAX) throw new JuteError('JUTE_BAD_VALUE', `long out of range: ${v}`);
    this.ensure(8);
    // Through a DataView: Buffer.writeBigInt64BE makes four BigInts per call.
    longScratch.setBigInt64(0, v);
    this.buf.set(longScratchBytes, this.pos);
    this.pos += 8;
  }

  /** A long given as a safe integer (zxids, times): skips BigInt on the hot path. */
  writeLongNumber(v: number): void {
    if (!Number.isSafeInteger(v)) throw new JuteError('JUTE_BAD_VALUE', `long is not a safe integer: ${v}`);
    this.ensure(8);
    const hi = Math.floor(v / 0x100000000);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * 0x100000000, this.pos + 4);
    this.pos += 8;
  }

  writeBool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  writeBuffer(v: Uint8Array | null): void {
    if (v === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** A buffer (or ustring) field whose bytes are src[start, start + length). */
  writeBufferRange(src: Buffer, start: number, length: number): void {
    this.writeInt(length);
    this.ensure(length);
    src.copy(this.buf, this.pos, start, start + length);
    this.pos += length;
  }

  /** A buffer field whose bytes are held as a latin1 string (one char per byte). */
  writeLatin1Buffer(v: string | null): void {
    if (v === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(v.length);
    this.ensure(v.length);
    this.buf.write(v, this.pos, v.length, 'latin1');
    this.pos += v.length;
  }

  /** Bytes already encoded (a cached record). */
  writeRaw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  writeUString(v: string | null): void {
    if (v === null) {
      this.writeInt(-1);
      return;
    }
    // Paths are short and nearly always ASCII: copying the chars here beats two native calls
    // (byteLength, then an utf8 write). Anything else takes the general path.
    const n = v.length;
    if (n <= ASCII_FAST_PATH_CHARS_MAX) {
      this.ensure(4 + n);
      const buf = this.buf;
      const start = this.pos + 4;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf.writeInt32BE(n, this.pos);
        this.pos = start + n;
        return;
      }
    }
    const bytes = Buffer.byteLength(v, 'utf8');
    this.writeInt(bytes);
    this.ensure(bytes);
    this.buf.write(v, this.pos, bytes, 'utf8');
    this.pos += bytes;
  }

  /** Reserve an int to patch later (frame length prefixes). */
  reserveInt(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  patchInt(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  /** A view of the bytes written so far (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes written, without a copy, for a writer that will not be used again. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): void {
    this.pos = 0;
  }
}
