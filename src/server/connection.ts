// One client TCP connection: framing, the handshake, and a per-connection pipeline that keeps
// replies in request order (clients drop the connection on an out-of-order xid) and makes a
// read wait for this session's earlier writes (read-your-writes). Watch events bypass the
// pipeline: they are written the moment their txn applies, so they precede any later reply.
import type net from 'node:net';
import type { Logger } from 'pino';
import {
  ConnectRequest,
  ConnectResponse,
  ErrorCode,
  FrameDecoder,
  JuteError,
  JuteReader,
  JuteWriter,
  KeeperState,
  OpCode,
  Perms,
  ReplyHeader,
  RequestHeader,
  WatcherEvent,
  Xid,
} from '../../wire/index.js';
import type { ACL, Id } from '../../wire/index.js';
import { clientIpId, hasPermission } from '../core/acl.js';
import type { Watcher } from '../core/watches.js';
import type { ReadContext, ReadResult, SplitBody } from './handlers/read.js';
import type { ZkServer } from './server.js';
import { FANOUT_MAX_FRAME, FANOUT_MIN_TARGETS } from './fanout-writer.js';
import type { FanoutWriter } from './fanout-writer.js';
import { addLatency, freshTraffic } from './traffic.js';
import type { TrafficCounters } from './traffic.js';

/** Bytes for the socket: a Buffer, or a latin1 string (a large value, see SplitBody). */
type OutChunk = Buffer | string;
/** One reply: one buffer, or the pieces of a split body. */
type ReplyOut = Buffer | OutChunk[];

interface Slot {
  xid: number;
  opcode: number;
  startedMs: number;
  bytes: ReplyOut | null;
  /** A read waiting for earlier writes of this connection; computed when it reaches the head. */
  compute: (() => ReplyOut) | null;
  closeAfter: boolean;
}

export interface ConnectionStats extends TrafficCounters {
  lastOpcode: number;
  lastCxid: number;
  lastZxid: number;
  lastResponseMs: number;
  lastLatencyMs: number;
}

/** ZooKeeper closes a connection that sends no ConnectRequest within this time. */
const SESSIONLESS_TIMEOUT_MS = 10000;
/** Replies queued on one connection before we stop reading from it. */
const QUEUE_PAUSE_AT = 1000;

export class ClientConnection implements Watcher {
  readonly id: number;
  readonly socket: net.Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly establishedAtMs: number;
  readonly authIds: Id[];
  readonly watchedPaths = new Set<string>();
  sessionId = 0n;
  timeoutMs = 0;
  /** Position in the server's ConnectionTable (-1: not in it). */
  tableSlot = -1;
  stats: ConnectionStats = freshStats();
  private readonly server: ZkServer;
  private readonly serverLog: Logger;
  private connLog: Logger | null = null;
  private readonly decoder: FrameDecoder;
  private state: 'new' | 'connecting' | 'established' | 'closed' = 'new';
  private held: Buffer[] = [];
  private queue: Slot[] = [];
  private queueHead = 0;
  private sessionlessTimer: NodeJS.Timeout | null;
  private readCtx: ReadContext | null = null;
  private paused = false;
  private pendingOut: OutChunk[] = [];
  private sendScheduled = false;
  private endAfterSend = false;
  closeRequested = false;

  constructor(id: number, socket: net.Socket, server: ZkServer, log: Logger) {
    this.id = id;
    this.socket = socket;
    this.server = server;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.establishedAtMs = Date.now();
    this.serverLog = log;
    this.decoder = new FrameDecoder(server.config.juteMaxBuffer);
    this.authIds = [clientIpId(socket.remoteAddress)];
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClosed());
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    this.sessionlessTimer = setTimeout(() => {
      if (this.state === 'new') {
        this.log.info('closing connection: no ConnectRequest within 10 s');
        this.destroy();
      }
    }, SESSIONLESS_TIMEOUT_MS);
  }

  /** Made on first use: most connections never log, and a child logger costs a few µs per accept. */
  private get log(): Logger {
    return (this.connLog ??= this.serverLog.child({ conn: this.id, remote: `${this.remoteAddress}:${this.remotePort}` }));
  }

  get outstanding(): number {
    return this.queue.length - this.queueHead;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.decoder.push(chunk);
    if (this.state === 'new' && this.decoder.bufferedBytes >= 4) {
      const word = this.server.fourLetterWordFor(this.decoder.peekInt() ?? 0);
      if (word !== null) {
        this.runFourLetterWord(word);
        return;
      }
    }
    for (;;) {
      let body: Buffer | null;
      try {
        body = this.decoder.next();
      } catch (e) {
        this.refuse(e);
        return;
      }
      if (body === null || this.isClosed) return;
      this.stats.packetsReceived++;
      this.server.counters.packetsReceived++;
      try {
        this.onFrame(body);
      } catch (e) {
        this.refuse(e);
        return;
      }
    }
  }

  /** A malformed or oversize frame costs this connection only, never the server. */
  private refuse(e: unknown): void {
    const reason = e instanceof JuteError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    this.log.warn({ reason }, 'closing connection: malformed or oversize packet');
    this.destroy();
  }

  private runFourLetterWord(word: string): void {
    const all = this.decoder.takeAll();
    // stmk carries an 8-byte mask after the word; wait for it.
    if (word === 'stmk' && all.length < 12) {
      this.decoder.push(all);
      return;
    }
    this.state = 'closed';
    const arg = word === 'stmk' ? all.readBigInt64BE(4) : undefined;
    const text = this.server.runFourLetterWord(word, arg);
    this.socket.end(text);
  }

  private onFrame(body: Buffer): void {
    if (this.state === 'new') {
      this.handshake(ConnectRequest.decode(body));
      return;
    }
    if (this.state === 'connecting') {
      // ZooKeeper reads nothing else until the session exists; keep pipelined frames in order.
      this.held.push(Buffer.from(body));
      return;
    }
    this.onRequest(body);
  }

  private handshake(req: ConnectRequest): void {
    if (this.sessionlessTimer !== null) clearTimeout(this.sessionlessTimer);
    this.sessionlessTimer = null;
    this.state = 'connecting';
    this.server.connect(this, req).then(
      (resp) => this.establish(req, resp),
      (e: unknown) => {
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'handshake failed');
        this.destroy();
      },
    );
  }

  /** resp null: close without answering (client ahead of us, too many connections). */
  private establish(req: ConnectRequest, resp: ConnectResponse | null): void {
    if (this.state === 'closed') return;
    if (resp === null) {
      this.destroy();
      return;
    }
    const mirrored: ConnectResponse = { ...resp, readOnly: req.readOnly === null ? null : false };
    const w = new JuteWriter(64);
    const at = w.reserveInt();
    ConnectResponse.write(w, mirrored);
    w.patchInt(at, w.length - 4);
    if (resp.timeOut <= 0) {
      // Invalid or expired session: answer timeOut=0, sessionId=0 and close (clients map it to Expired).
      this.state = 'closed';
      this.socket.end(w.toBuffer());
      return;
    }
    this.sessionId = resp.sessionId;
    this.timeoutMs = resp.timeOut;
    this.state = 'established';
    this.send(w.toBuffer());
    this.stats.packetsSent++;
    this.server.counters.packetsSent++;
    const held = this.held;
    this.held = [];
    for (const body of held) {
      if (this.state !== 'established') return;
      try {
        this.onRequest(body);
      } catch (e) {
        this.refuse(e);
        return;
      }
    }
  }

  private context(): ReadContext {
    if (this.readCtx === null) {
      this.readCtx = {
        tree: this.server.tree,
        watches: this.server.watches,
        watcher: this,
        auth: { ids: this.authIds },
        sessionId: this.sessionId,
        skipACL: this.server.config.skipACL,
        watchedPaths: this.watchedPaths,
      };
    }
    return this.readCtx;
  }

  private onRequest(body: Buffer): void {
    const r = new JuteReader(body, 0, body.length, this.server.config.juteMaxBuffer);
    const header = RequestHeader.read(r);
    this.server.touch(this);
    const { xid, type } = header;
    this.stats.lastOpcode = type;
    this.stats.lastCxid = xid;
    switch (type) {
      case OpCode.ping:
        this.enqueueRead(xid, type, () => ({ err: 0 }));
        return;
      case OpCode.auth:
        this.server.authenticate(this, xid, r);
        return;
      case OpCode.setWatches:
      case OpCode.setWatches2:
        this.enqueueRead(xid, type, () => this.server.setWatches(this, type, r));
        return;
      case OpCode.closeSession:
        this.closeRequested = true;
        this.enqueueWrite(xid, type, this.server.closeSession(this), true);
        return;
      case OpCode.sasl:
        // No SASL configured: ZooKeeper 3.8 answers OK with a null token and reply zxid 0.
        this.enqueueReply(xid, type, 0n, () => ({ err: 0, write: (w) => w.writeBuffer(null) }));
        return;
      case OpCode.sync:
        if (this.server.replica.role !== 'standalone') {
          // In an ensemble sync waits for the leader's commit index; alone it is a read (below).
          this.enqueueWrite(xid, type, this.server.sync(r), false);
          return;
        }
        break;
      case OpCode.reconfig:
        this.enqueueRead(xid, type, () => ({ err: ErrorCode.ReconfigDisabled }));
        return;
      case OpCode.deleteContainer:
        // Internal to the container reaper; a client sending it gets BadArguments (LIVE 3.8.0).
        this.enqueueRead(xid, type, () => ({ err: ErrorCode.BadArguments }));
        return;
      default:
        break;
    }
    const read = this.server.readHandler(type);
    if (read !== null) {
      this.enqueueRead(xid, type, () => {
        try {
          return read(this.context(), r);
        } catch (e) {
          if (e instanceof JuteError) return { err: ErrorCode.MarshallingError };
          throw e;
        }
      });
      return;
    }
    if (this.server.isWrite(type)) {
      const reply = this.server.submitWrite(this, xid, type, r);
      this.enqueueWrite(xid, type, reply, false);
      return;
    }
    // Unknown opcode: ZooKeeper answers Unimplemented with zxid -1 and closes the connection.
    this.log.info({ opcode: type }, 'unknown opcode; answering Unimplemented and closing');
    this.push({ xid, opcode: type, startedMs: performance.now(), bytes: replyBytes(xid, -1n, ErrorCode.Unimplemented, undefined), compute: null, closeAfter: true });
    this.flush();
  }

  private enqueueRead(xid: number, opcode: number, run: () => ReadResult): void {
    this.enqueueReply(xid, opcode, null, run);
  }

  /** zxid null: the last applied zxid when the reply is computed. */
  private enqueueReply(xid: number, opcode: number, zxid: bigint | null, run: () => ReadResult): void {
    const startedMs = performance.now();
    const compute = (): ReplyOut => {
      const res = run();
      const at = zxid ?? this.server.tree.lastZxid;
      if (res.err === 0 && res.split !== undefined) return replyParts(xid, at, res.split);
      return replyBytes(xid, at, res.err, res.err === 0 ? res.write : undefined, res.sizeHint);
    };
    if (this.outstanding === 0) {
      this.push({ xid, opcode, startedMs, bytes: compute(), compute: null, closeAfter: false });
      this.flush();
      return;
    }
    this.push({ xid, opcode, startedMs, bytes: null, compute, closeAfter: false });
  }

  private enqueueWrite(xid: number, opcode: number, reply: Promise<{ zxid: number; err: number; write?: (w: JuteWriter) => void }>, closeAfter: boolean): void {
    const slot: Slot = { xid, opcode, startedMs: performance.now(), bytes: null, compute: null, closeAfter };
    this.push(slot);
    reply.then(
      (res) => {
        slot.bytes = replyBytes(xid, res.zxid, res.err, res.err === 0 ? res.write : undefined);
        this.stats.lastZxid = res.zxid;
        this.flush();
      },
      (e: unknown) => {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'write failed; closing connection');
        this.destroy();
      },
    );
  }

  private push(slot: Slot): void {
    this.queue.push(slot);
    this.server.outstandingTotal++;
    // Backpressure: stop reading this socket while it, or the whole server, has too much in flight.
    if (!this.paused && (this.outstanding >= QUEUE_PAUSE_AT || this.server.overloaded)) {
      this.paused = true;
      this.socket.pause();
      this.server.throttled.add(this);
    }
  }

  /** Called by the server when the global in-flight count has dropped. */
  maybeResume(): void {
    if (this.paused && this.outstanding < QUEUE_PAUSE_AT / 2 && !this.server.overloaded) {
      this.paused = false;
      this.socket.resume();
      this.server.throttled.delete(this);
    }
  }

  /** Writes every reply that is next in order; computes waiting reads when their turn comes. */
  private flush(): void {
    if (this.state === 'closed') return;
    const out: OutChunk[] = [];
    let replies = 0;
    let close = false;
    while (this.queueHead < this.queue.length) {
      const head = this.queue[this.queueHead] as Slot;
      if (head.bytes === null) {
        if (head.compute === null) break;
        head.bytes = head.compute();
      }
      if (Array.isArray(head.bytes)) out.push(...head.bytes);
      else out.push(head.bytes);
      replies++;
      this.queueHead++;
      this.recordLatency(head);
      if (head.closeAfter) {
        close = true;
        break;
      }
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    this.server.outstandingTotal -= replies;
    if (replies > 0) {
      this.stats.packetsSent += replies;
      this.server.counters.packetsSent += replies;
      for (const bytes of out) this.send(bytes);
      if (close) this.closeAfterSend();
    }
    if (this.server.throttled.size > 0) this.server.resumeThrottled();
  }

  private recordLatency(slot: Slot): void {
    if (slot.opcode === OpCode.ping) return;
    const ms = performance.now() - slot.startedMs;
    const s = this.stats;
    s.lastLatencyMs = ms;
    s.lastResponseMs = Date.now();
    addLatency(s, ms);
    addLatency(this.server.counters, ms);
  }

  mayRead(acl: readonly ACL[]): boolean {
    return this.server.config.skipACL || hasPermission(acl, Perms.READ, { ids: this.authIds });
  }

  /** Watcher: notification frame xid -1, zxid -1 (3.8), state SyncConnected. */
  deliver(type: number, path: string): void {
    if (this.state !== 'established') return;
    this.send(notificationFrame(type, path));
    this.countEvent();
  }

  private countEvent(): void {
    this.stats.packetsSent++;
    this.server.counters.packetsSent++;
  }

  /**
   * The socket's fd when an event may be written to it at once, from any thread, without
   * passing output queued before it (here, in the stream or in libuv); -1 otherwise.
   * (A TLS socket, once there is one, must never qualify: its fd carries encrypted bytes.)
   */
  directWriteFd(): number {
    if (this.state !== 'established' || this.sendScheduled || this.pendingOut.length > 0 || this.endAfterSend) return -1;
    const s = this.socket;
    if (s.destroyed || !s.writable || s.writableLength > 0 || s.writableCorked > 0) return -1;
    const fd = (s as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : -1;
  }

  /** After a fan-out wrote `written` bytes of frame straight to this socket's fd (0 or -1: none). */
  directWriteDone(frame: Buffer, written: number): void {
    if (written < frame.length) this.send(written > 0 ? frame.subarray(written) : frame);
    this.countEvent();
  }

  /**
   * Output is gathered during one turn of the event loop and written with a single writev:
   * a pipelined burst of requests, or a group commit's replies, costs one syscall, and events
   * and replies keep the order in which they were produced.
   */
  private send(bytes: OutChunk): void {
    this.pendingOut.push(bytes);
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    process.nextTick(() => this.sendPending());
  }

  private sendPending(): void {
    this.sendScheduled = false;
    const out = this.pendingOut;
    this.pendingOut = [];
    if (this.socket.destroyed) return;
    if (out.length === 1) {
      writeChunk(this.socket, out[0] as OutChunk);
    } else if (out.length > 1) {
      this.socket.cork();
      for (const b of out) writeChunk(this.socket, b);
      this.socket.uncork();
    }
    if (this.endAfterSend) this.socket.end();
  }

  private closeAfterSend(): void {
    this.state = 'closed';
    this.endAfterSend = true;
    if (!this.sendScheduled) this.sendPending();
  }

  /** The auth reply is not part of the ordered pipeline (clients match it by its xid -4). */
  writeImmediate(xid: number, zxid: bigint, err: number, close: boolean): void {
    if (this.state === 'closed') return;
    this.send(replyBytes(xid, zxid, err, undefined));
    if (close) this.closeAfterSend();
  }

  resetStats(): void {
    this.stats = freshStats();
  }

  destroy(): void {
    if (this.state !== 'closed') this.state = 'closed';
    this.socket.destroy();
  }

  private onClosed(): void {
    this.state = 'closed';
    this.server.outstandingTotal -= this.outstanding;
    this.server.throttled.delete(this);
    this.queue = [];
    this.queueHead = 0;
    if (this.sessionlessTimer !== null) clearTimeout(this.sessionlessTimer);
    this.server.connectionClosed(this);
  }

  get sessionIdHex(): string {
    return `0x${BigInt.asUintN(64, this.sessionId).toString(16)}`;
  }
}

function freshStats(): ConnectionStats {
  return { ...freshTraffic(), lastOpcode: 0, lastCxid: 0, lastZxid: 0, lastResponseMs: 0, lastLatencyMs: 0 };
}

/**
 * A notification's bytes depend only on (type, path), and one trigger sends the same event to
 * every watcher: encode it once and share the buffer (watch fan-out to thousands of sessions).
 */
let lastNotification: { type: number; path: string; bytes: Buffer } | null = null;

/**
 * One event to many watchers. With the fan-out helper up and enough watchers, the sockets with
 * nothing queued are written straight to their fds by this thread and the helper thread
 * together (fanout-writer.ts); the others get the event through their usual output path.
 */
export function deliverToMany(targets: readonly Watcher[], type: number, path: string, writer: FanoutWriter | null): void {
  const frame = writer !== null && writer.available && targets.length >= FANOUT_MIN_TARGETS ? notificationFrame(type, path) : null;
  if (writer === null || frame === null || frame.length > FANOUT_MAX_FRAME) {
    for (const w of targets) w.deliver(type, path);
    return;
  }
  const slots = writer.fdSlots;
  let i = 0;
  while (i < targets.length) {
    const direct: ClientConnection[] = [];
    for (; i < targets.length && direct.length < writer.batchSize; i++) {
      const w = targets[i] as Watcher;
      const fd = w instanceof ClientConnection ? w.directWriteFd() : -1;
      if (fd < 0) {
        w.deliver(type, path);
        continue;
      }
      slots[direct.length] = fd;
      direct.push(w as ClientConnection);
    }
    if (direct.length === 0) continue;
    const written = writer.writeAll(direct.length, frame);
    for (let k = 0; k < direct.length; k++) (direct[k] as ClientConnection).directWriteDone(frame, written[k] as number);
  }
}

function notificationFrame(type: number, path: string): Buffer {
  if (lastNotification !== null && lastNotification.type === type && lastNotification.path === path) return lastNotification.bytes;
  const w = new JuteWriter(32 + path.length * 3);
  const at = w.reserveInt();
  ReplyHeader.write(w, { xid: Xid.Notification, zxid: -1n, err: 0 });
  WatcherEvent.write(w, { type, state: KeeperState.SyncConnected, path });
  w.patchInt(at, w.length - 4);
  const bytes = w.toBuffer();
  lastNotification = { type, path, bytes };
  return bytes;
}

function writeChunk(socket: net.Socket, chunk: OutChunk): void {
  if (typeof chunk === 'string') socket.write(chunk, 'latin1');
  else socket.write(chunk);
}

/** The frame length slot, then ReplyHeader; returns where the length goes. */
function startReply(w: JuteWriter, xid: number, zxid: number | bigint, err: number): number {
  const at = w.reserveInt();
  w.writeInt(xid);
  if (typeof zxid === 'bigint') w.writeLong(zxid);
  else w.writeLongNumber(zxid);
  w.writeInt(err);
  return at;
}

export function replyBytes(xid: number, zxid: number | bigint, err: number, write: ((w: JuteWriter) => void) | undefined, sizeHint = 0): Buffer {
  const w = new JuteWriter(write === undefined ? 20 : Math.max(256, 20 + sizeHint));
  const at = startReply(w, xid, zxid, err);
  if (write !== undefined) write(w);
  w.patchInt(at, w.length - 4);
  return w.finish();
}

/** A successful reply whose body is head + a large latin1 value + tail, as three socket chunks. */
function replyParts(xid: number, zxid: number | bigint, body: SplitBody): OutChunk[] {
  const head = new JuteWriter(64);
  const at = startReply(head, xid, zxid, 0);
  body.head(head);
  const tail = new JuteWriter(128);
  body.tail(tail);
  head.patchInt(at, head.length - 4 + body.middle.length + tail.length);
  return [head.finish(), body.middle, tail.finish()];
}
