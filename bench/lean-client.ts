// A lean pipelined ZooKeeper session for the load generator. Built on wire/ for encoding,
// but replies are parsed in place (header only, the body is handed over as a view) and
// nothing is allocated per request beyond the frame itself. Replies must come back in xid
// order (ZooKeeper's guarantee per session); anything else is counted as an error.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConnectRequest, ConnectResponse, ErrorCode, JuteWriter, OpCode, Xid } from '../wire/index.js';

/** Called with the reply's error code, its body (a view, valid only during the call) and the send time. */
export type ReplyHandler = (err: number, body: Buffer, sentAt: number, zxid: bigint) => void;

export interface EventInfo {
  type: number;
  state: number;
  path: string;
}

interface Pending {
  xid: number;
  sentAt: number;
  onReply: ReplyHandler;
}

const FRAME_MAX = 64 * 1024 * 1024;

/** Client-side failures, reported like server error codes (outside ZooKeeper's range). */
export const ClientError = {
  ConnectionLost: -90001,
  XidMismatch: -90002,
  BadReply: -90003,
  ConnectFailed: -90004,
} as const;

/** A frame template: [len][xid][type][body]; the xid at offset 4 is patched per send. */
export function encodeRequest(type: number, writeBody?: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(256);
  const at = w.reserveInt();
  w.writeInt(0); // xid, patched on send
  w.writeInt(type);
  writeBody?.(w);
  w.patchInt(at, w.length - 4);
  return w.toBuffer();
}

export class LeanSession {
  readonly socket: net.Socket;
  sessionId = 0n;
  private acc: Buffer = Buffer.alloc(0);
  private partial: Buffer | null = null;
  private partialFill = 0;
  private readonly pending: Pending[] = [];
  private head = 0;
  private nextXid = 1;
  private closedWith: string | null = null;
  private closeWaiters: Array<() => void> = [];
  private handshake: ((body: Buffer) => void) | null = null;
  onEvent: ((ev: EventInfo, zxid: bigint) => void) | null = null;
  /** Protocol-level failures (xid mismatch, framing); the caller counts them. */
  onProtocolError: ((what: string) => void) | null = null;
  /** Called once when the socket closes; `expected` when close() asked for it. */
  onClosed: ((reason: string, lostRequests: number) => void) | null = null;
  private closing = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('close', () => this.finish('connection closed by server'));
    socket.on('error', (e) => this.finish(`socket error: ${e.message}`));
  }

  get outstanding(): number {
    return this.pending.length - this.head;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  get closeReason(): string | null {
    return this.closedWith;
  }

  static connect(host: string, port: number, timeOutMs = 30000, connectTimeoutMs = 10000): Promise<LeanSession> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const s = new LeanSession(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no ConnectResponse from ${host}:${port} within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      s.onClosed = (reason) => {
        clearTimeout(timer);
        reject(new Error(`connect failed: ${reason}`));
      };
      s.handshake = (body) => {
        clearTimeout(timer);
        s.onClosed = null;
        const res = ConnectResponse.decode(Buffer.from(body));
        if (res.timeOut <= 0) {
          socket.destroy();
          reject(new Error('server refused the session (negotiated timeout 0)'));
          return;
        }
        s.sessionId = res.sessionId;
        resolve(s);
      };
      socket.once('connect', () => {
        const w = new JuteWriter(64);
        const at = w.reserveInt();
        ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: timeOutMs, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
        w.patchInt(at, w.length - 4);
        socket.write(w.toBuffer());
      });
    });
  }

  /** Sends a copy of the template with the next xid. Returns false if the session is closed. */
  send(template: Buffer, onReply: ReplyHandler): boolean {
    if (this.closedWith !== null) return false;
    const xid = this.nextXid++;
    const frame = Buffer.allocUnsafe(template.length);
    template.copy(frame);
    frame.writeInt32BE(xid, 4);
    this.pending.push({ xid, sentAt: performance.now(), onReply });
    this.socket.write(frame);
    return true;
  }

  /** Promise form for setup code: resolves with err and a copy of the body. */
  call(template: Buffer): Promise<{ err: number; body: Buffer }> {
    return new Promise((resolve) => {
      const ok = this.send(template, (err, body) => resolve({ err, body: Buffer.from(body) }));
      if (!ok) resolve({ err: ClientError.ConnectionLost, body: Buffer.alloc(0) });
    });
  }

  /** closeSession, then wait for the server to close the socket (bounded). */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closedWith !== null) return;
    this.closing = true;
    const done = this.waitClosed(timeoutMs);
    this.send(encodeRequest(OpCode.closeSession), () => undefined);
    await done;
  }

  /** Drop the TCP connection without closeSession. */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  waitClosed(timeoutMs: number): Promise<void> {
    if (this.closedWith !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private finish(reason: string): void {
    if (this.closedWith !== null) return;
    this.closedWith = this.closing ? 'closed by client' : reason;
    const lost = this.pending.slice(this.head);
    this.pending.length = 0;
    this.head = 0;
    const empty = Buffer.alloc(0);
    // Every request still outstanding gets an answer: "lost" (never silently dropped).
    for (const p of lost) p.onReply(ClientError.ConnectionLost, empty, p.sentAt, 0n);
    this.onClosed?.(this.closedWith, lost.length);
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /**
   * A frame longer than the chunk in hand goes into a buffer of its full size, filled as chunks
   * arrive: joining the backlog with each chunk would copy a 512 KiB reply many times over.
   */
  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.partial !== null) {
      const n = Math.min(this.partial.length - this.partialFill, chunk.length);
      chunk.copy(this.partial, this.partialFill, 0, n);
      this.partialFill += n;
      if (this.partialFill < this.partial.length) return;
      const whole = this.partial;
      this.partial = null;
      if (this.parse(whole) < 0) return;
      buf = chunk.subarray(n);
      if (buf.length === 0) return;
    } else if (this.acc.length > 0) {
      buf = Buffer.concat([this.acc, buf]);
      this.acc = Buffer.alloc(0);
    }
    const off = this.parse(buf);
    if (off < 0 || off >= buf.length) return;
    const rest = buf.subarray(off);
    if (rest.length < 4) {
      this.acc = Buffer.from(rest);
      return;
    }
    this.partial = Buffer.allocUnsafe(4 + rest.readInt32BE(0));
    rest.copy(this.partial, 0);
    this.partialFill = rest.length;
  }

  /** Handles every complete frame in buf; returns where the unfinished tail starts, or -1 after a fatal error. */
  private parse(buf: Buffer): number {
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readInt32BE(off);
      if (len < 0 || len > FRAME_MAX) {
        this.onProtocolError?.(`bad frame length ${len}`);
        this.socket.destroy();
        return -1;
      }
      if (buf.length - off - 4 < len) break;
      const start = off + 4;
      off = start + len;
      if (this.handshake !== null) {
        const h = this.handshake;
        this.handshake = null;
        h(buf.subarray(start, off));
        continue;
      }
      if (len < 16) {
        this.onProtocolError?.(`short reply frame (${len} bytes)`);
        continue;
      }
      const xid = buf.readInt32BE(start);
      const zxid = buf.readBigInt64BE(start + 4);
      const err = buf.readInt32BE(start + 12);
      if (xid === Xid.Notification) {
        this.dispatchEvent(buf.subarray(start + 16, off), zxid);
        continue;
      }
      if (xid === Xid.Ping) continue;
      const p = this.pending[this.head];
      if (p === undefined) {
        this.onProtocolError?.(`reply xid ${xid} with nothing outstanding`);
        continue;
      }
      this.pending[this.head] = undefined as unknown as Pending;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.pending.length) {
        this.pending.splice(0, this.head);
        this.head = 0;
      }
      if (p.xid !== xid) {
        this.onProtocolError?.(`xid out of order: expected ${p.xid}, got ${xid}`);
        p.onReply(ClientError.XidMismatch, buf.subarray(off, off), p.sentAt, zxid);
        continue;
      }
      p.onReply(err, buf.subarray(start + 16, off), p.sentAt, zxid);
    }
    return off;
  }

  private dispatchEvent(body: Buffer, zxid: bigint): void {
    if (this.onEvent === null) return;
    const type = body.readInt32BE(0);
    const state = body.readInt32BE(4);
    const n = body.readInt32BE(8);
    const path = n < 0 ? '' : body.toString('utf8', 12, 12 + n);
    this.onEvent({ type, state, path }, zxid);
  }
}

/** A readable name for a server error code or a ClientError. */
export function errorName(code: number): string {
  for (const [k, v] of Object.entries(ErrorCode)) if (v === code) return `${k} (${code})`;
  for (const [k, v] of Object.entries(ClientError)) if (v === code) return `client: ${k}`;
  return `code ${code}`;
}
