// A lean pipelined ZooKeeper session for the load generator. Built on wire/ for encoding,
// but replies are parsed in place (header only, the body is handed over as a view) and
// nothing is allocated per request beyond the frame itself. Replies must come back in xid
// order (ZooKeeper's guarantee per session); anything else is counted as an error.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ConnectRequest, ConnectResponse, ErrorCode, FrameDecoder, JuteWriter, OpCode, Xid } from '../wire/index.js';

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
  private readonly frames = new FrameDecoder(FRAME_MAX);
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

  /** The wire decoder splits frames (joining a large one once, when its last chunk is in). */
  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (;;) {
      let frame: Buffer | null;
      try {
        frame = this.frames.next();
      } catch (e) {
        this.onProtocolError?.(e instanceof Error ? e.message : String(e));
        this.socket.destroy();
        return;
      }
      if (frame === null) return;
      this.onFrame(frame);
    }
  }

  private onFrame(body: Buffer): void {
    if (this.handshake !== null) {
      const h = this.handshake;
      this.handshake = null;
      h(body);
      return;
    }
    if (body.length < 16) {
      this.onProtocolError?.(`short reply frame (${body.length} bytes)`);
      return;
    }
    const xid = body.readInt32BE(0);
    const zxid = body.readBigInt64BE(4);
    const err = body.readInt32BE(12);
    if (xid === Xid.Notification) {
      this.dispatchEvent(body.subarray(16), zxid);
      return;
    }
    if (xid === Xid.Ping) return;
    const p = this.pending[this.head];
    if (p === undefined) {
      this.onProtocolError?.(`reply xid ${xid} with nothing outstanding`);
      return;
    }
    this.pending[this.head] = undefined as unknown as Pending;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    if (p.xid !== xid) {
      this.onProtocolError?.(`xid out of order: expected ${p.xid}, got ${xid}`);
      p.onReply(ClientError.XidMismatch, body.subarray(body.length), p.sentAt, zxid);
      return;
    }
    p.onReply(err, body.subarray(16), p.sentAt, zxid);
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
