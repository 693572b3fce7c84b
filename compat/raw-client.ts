// A minimal ZooKeeper client that speaks the wire protocol directly through wire/.
// Used by differential tests (same bytes to zooraft and to real ZooKeeper), by tests that
// need opcodes node-zookeeper-client lacks, and by the benchmark load generator.
// It does no retries and hides nothing: every reply header comes back to the caller.
import net from 'node:net';
import {
  ConnectRequest,
  ConnectResponse,
  FrameDecoder,
  JuteReader,
  JuteWriter,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
  Xid,
} from '../wire/index.js';
import type { FieldType } from '../wire/index.js';

export interface RawConnectOptions {
  host: string;
  port: number;
  timeOutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: bigint;
  /** null: send a 3.8-style ConnectRequest without the readOnly byte (like node-zookeeper-client). */
  readOnly?: boolean | null;
  connectTimeoutMs?: number;
}

export interface RawReply {
  xid: number;
  zxid: bigint;
  err: number;
  /** Body bytes after the ReplyHeader (empty on error). */
  body: Buffer;
}

export interface RawEvent extends WatcherEvent {
  zxid: bigint;
}

interface Pending {
  xid: number;
  resolve: (r: RawReply) => void;
  reject: (e: Error) => void;
}

export class RawClient {
  readonly socket: net.Socket;
  readonly response: ConnectResponse;
  readonly events: RawEvent[] = [];
  private readonly decoder: FrameDecoder;
  private readonly pending: Pending[] = [];
  private nextXid = 1;
  private closedError: Error | null = null;
  private eventWaiters: Array<() => void> = [];
  private closeWaiters: Array<() => void> = [];

  private constructor(socket: net.Socket, decoder: FrameDecoder, response: ConnectResponse, leftover: Buffer[]) {
    this.socket = socket;
    this.decoder = decoder;
    this.response = response;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClose(new Error('connection closed by server')));
    socket.on('error', (e) => this.onClose(e));
    for (const c of leftover) this.onData(c);
  }

  get sessionId(): bigint {
    return this.response.sessionId;
  }

  get passwd(): Buffer {
    return this.response.passwd ?? Buffer.alloc(16);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Connects and completes the handshake; rejects if the server closes without answering. */
  static connect(opts: RawConnectOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port });
      socket.setNoDelay(true);
      const decoder = new FrameDecoder(64 * 1024 * 1024);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no ConnectResponse from ${opts.host}:${opts.port} within ${opts.connectTimeoutMs ?? 5000} ms`));
      }, opts.connectTimeoutMs ?? 5000);
      const onData = (chunk: Buffer): void => {
        decoder.push(chunk);
        let body: Buffer | null;
        try {
          body = decoder.next();
        } catch (e) {
          clearTimeout(timer);
          socket.destroy();
          reject(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        if (body === null) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onEarlyClose);
        socket.off('error', onEarlyError);
        const response = ConnectResponse.decode(Buffer.from(body));
        const rest = decoder.takeAll();
        resolve(new RawClient(socket, new FrameDecoder(64 * 1024 * 1024), response, rest.length > 0 ? [rest] : []));
      };
      const onEarlyClose = (): void => {
        clearTimeout(timer);
        reject(new Error('connection closed before ConnectResponse'));
      };
      const onEarlyError = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      socket.on('data', onData);
      socket.once('close', onEarlyClose);
      socket.once('error', onEarlyError);
      socket.once('connect', () => {
        const req: ConnectRequest = {
          protocolVersion: 0,
          lastZxidSeen: opts.lastZxidSeen ?? 0n,
          timeOut: opts.timeOutMs ?? 30000,
          sessionId: opts.sessionId ?? 0n,
          passwd: opts.passwd ?? Buffer.alloc(16),
          readOnly: opts.readOnly === undefined ? false : opts.readOnly,
        };
        socket.write(frameOf((w) => ConnectRequest.write(w, req)));
      });
    });
  }

  /** Sends one request and resolves with its reply. xid defaults to the next counter value. */
  request(type: number, writeBody?: (w: JuteWriter) => void, xid?: number): Promise<RawReply> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const useXid = xid ?? this.nextXid++;
    const buf = frameOf((w) => {
      RequestHeader.write(w, { xid: useXid, type });
      writeBody?.(w);
    });
    return new Promise((resolve, reject) => {
      this.pending.push({ xid: useXid, resolve, reject });
      this.socket.write(buf);
    });
  }

  /** Typed convenience: request with a record body, decode the reply body with a record type. */
  async call<Req, Res>(type: number, reqType: FieldType<Req> | null, req: Req | null, resType: FieldType<Res> | null): Promise<{ err: number; zxid: bigint; res: Res | null }> {
    const reply = await this.request(type, reqType === null || req === null ? undefined : (w) => reqType.write(w, req));
    if (reply.err !== 0 || resType === null) return { err: reply.err, zxid: reply.zxid, res: null };
    const r = new JuteReader(reply.body);
    return { err: reply.err, zxid: reply.zxid, res: resType.read(r) };
  }

  /** Bytes straight to the socket (malformed-input tests). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `count` events in total have arrived, or the timeout passes. */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<RawEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} watch events, got ${this.events.length}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.eventWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events.slice(0, count);
  }

  /** Resolves when the server closes the connection (or the timeout passes: rejects). */
  waitForClose(timeoutMs = 5000): Promise<void> {
    if (this.closedError !== null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('server did not close the connection')), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Drops the TCP connection without closeSession (the session lives on until it expires). */
  disconnect(): Promise<void> {
    if (this.closedError !== null) return Promise.resolve();
    const done = this.waitForClose(5000);
    this.socket.destroy();
    return done;
  }

  /** closeSession (-11), then waits for the server to close the socket. */
  async close(): Promise<void> {
    if (this.closedError !== null) return;
    await this.request(-11);
    await this.waitForClose(5000).catch(() => this.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let body: Buffer | null;
      try {
        body = this.decoder.next();
      } catch (e) {
        this.socket.destroy();
        this.onClose(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (body === null) return;
      const r = new JuteReader(Buffer.from(body));
      const header = ReplyHeader.read(r);
      if (header.xid === Xid.Notification) {
        const ev = WatcherEvent.read(r);
        this.events.push({ ...ev, zxid: header.zxid });
        for (const w of this.eventWaiters.splice(0)) w();
        continue;
      }
      const p = this.pending.shift();
      if (p === undefined) continue;
      const reply: RawReply = { xid: header.xid, zxid: header.zxid, err: header.err, body: body.subarray(r.offset) };
      if (p.xid !== header.xid) {
        p.reject(new Error(`xid out of order: expected ${p.xid}, got ${header.xid}`));
        continue;
      }
      p.resolve(reply);
    }
  }

  private onClose(e: Error): void {
    if (this.closedError === null) this.closedError = e;
    for (const p of this.pending.splice(0)) p.reject(this.closedError);
    for (const w of this.closeWaiters.splice(0)) w();
    for (const w of this.eventWaiters.splice(0)) w();
  }
}

function frameOf(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(128);
  const at = w.reserveInt();
  write(w);
  w.patchInt(at, w.length - 4);
  return w.toBuffer();
}
