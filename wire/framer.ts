// 4-byte big-endian length framing. The decoder accepts chunks of any size (byte by byte
// or many frames at once) and refuses a length above jute.maxbuffer before buffering it,
// as ZooKeeper's NIOServerCnxn does; the caller then closes the connection.
import { JuteError } from './jute.js';

export class FrameDecoder {
  private readonly frameBytesMax: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the frame at the head needs (4 + its length) once its length is read; 0 before. */
  private wanted = 0;

  constructor(frameBytesMax: number) {
    this.frameBytesMax = frameBytesMax;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The first 4 bytes, if that many arrived, without consuming them (four-letter-word check). */
  peekInt(): number | null {
    if (this.buffered < 4) return null;
    return this.headInt();
  }

  /** Raw bytes buffered so far (used once a connection switches to four-letter-word mode). */
  takeAll(): Buffer {
    const all = this.flatten();
    this.chunks = [];
    this.buffered = 0;
    this.wanted = 0;
    return all;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame body, or null if more bytes are needed. Throws JuteError on a bad length. */
  next(): Buffer | null {
    // A large frame arrives in many chunks: join them once, when the last one is in, not per chunk.
    if (this.buffered < Math.max(4, this.wanted)) return null;
    if (this.wanted === 0) {
      const len = this.headInt();
      if (len < 0) throw new JuteError('FRAME_BAD_LENGTH', `negative frame length ${len}`);
      if (len > this.frameBytesMax) {
        throw new JuteError('FRAME_TOO_LARGE', `frame of ${len} bytes is over jute.maxbuffer (${this.frameBytesMax})`);
      }
      this.wanted = 4 + len;
      if (this.buffered < this.wanted) return null;
    }
    const head = this.flatten();
    const body = head.subarray(4, this.wanted);
    const rest = head.subarray(this.wanted);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    this.wanted = 0;
    return body;
  }

  /** The first 4 buffered bytes as an int, joining chunks only when the first is shorter. */
  private headInt(): number {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= 4) return first.readInt32BE(0);
    return this.flatten().readInt32BE(0);
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) {
      this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    }
    const only = this.chunks[0];
    if (only === undefined) return Buffer.alloc(0);
    return only;
  }
}

/** Prefix a body with its length. */
export function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}
