// The TCP transport between the Raft members of an ensemble. An I/O shell: frames are opaque
// Buffers, and Raft above decides what to send and when to resend.
//
// Every member dials every peer and uses that outbound connection only to send; it receives
// only on connections its peers dialed. So each pair has two connections, and nobody has to
// decide which of two simultaneous dials wins.
//
// Wire format: each frame is a u32 big-endian length and that many bytes. The dialer's first
// frame is a hello (magic 'ZRPT', version, sender id), so the acceptor knows whose frames
// follow. Frames on one connection arrive in order; frames may be lost when a connection
// drops or a queue is full, which Raft tolerates (it resends after onPeerUp or a timeout).
// Bad input from the network costs one connection and a log line; an exception thrown by
// onFrame or onPeerUp is a bug above this layer and is not caught.
import net from 'node:net';
import type { Logger } from 'pino';
import { FrameDecoder, JuteError } from '../../wire/index.js';

export interface PeerAddress {
  id: number;
  host: string;
  port: number;
}

export interface PeerTransportOptions {
  selfId: number;
  /** Address to bind; port 0 binds an ephemeral port (tests). */
  listenHost: string;
  listenPort: number;
  /** The other members (never selfId). */
  peers: readonly PeerAddress[];
  /** Largest frame accepted from a peer; a bigger one closes that connection with a log line. */
  maxFrameBytes: number;
  log: Logger;
}

export type PeerTransportErrorCode =
  // Invalid options given to listen().
  | 'PEER_BAD_OPTIONS'
  // Programming errors in the caller: send() to an id that is not a configured peer, or a
  // frame the peer would refuse (over maxFrameBytes) and so would cost the whole connection.
  | 'PEER_UNKNOWN'
  | 'PEER_FRAME_TOO_LARGE';

export class PeerTransportError extends Error {
  readonly code: PeerTransportErrorCode;
  constructor(code: PeerTransportErrorCode, message: string) {
    super(message);
    this.name = 'PeerTransportError';
    this.code = code;
  }
}

/** 'ZRPT' in ASCII. */
const HELLO_MAGIC = 0x5a525054;
const PROTOCOL_VERSION = 1;
/** The hello's body: magic, version, sender id (three u32). */
const HELLO_BYTES = 12;
const FRAME_HEADER_BYTES = 4;
/** The receiver reads lengths as int32 (wire FrameDecoder), so no frame may be longer. */
const FRAME_BYTES_LIMIT = 0x7fffffff;
/** Frames kept for a peer while its connection is being (re)established. */
export const CONNECT_QUEUE_FRAMES_MAX = 64;
/** Bytes buffered in one outbound socket beyond which new frames to that peer are dropped. */
export const SOCKET_BACKLOG_BYTES_MAX = 64 * 1024 * 1024;
const BACKOFF_MS_START = 50;
const BACKOFF_MS_MAX = 1000;
/** A dial that has not connected by then is abandoned (a silent host would otherwise hold it for minutes). */
const CONNECT_TIMEOUT_MS = 3000;
/** An accepted connection must identify itself within this time. */
const HELLO_TIMEOUT_MS = 5000;
/** Accepted connections still waiting for their hello; more are refused. */
const HELLO_PENDING_MAX = 64;

export class PeerTransport {
  /** Called for every frame received from a peer, in the order the peer sent them. The frame may be a view into a larger receive buffer: copy it to keep it long. */
  onFrame: (from: number, frame: Buffer) => void = () => undefined;
  /** Called when an outbound connection to a peer is (re)established (so Raft can resend). */
  onPeerUp: (id: number) => void = () => undefined;
  /** The bound port. */
  readonly port: number;
  private readonly selfId: number;
  private readonly maxFrameBytes: number;
  private readonly log: Logger;
  private readonly server: net.Server;
  private readonly peerIds: ReadonlySet<number>;
  private readonly links = new Map<number, OutboundLink>();
  private readonly inbound = new Set<InboundConnection>();
  /** The current inbound connection of each identified peer. */
  private readonly inboundByPeer = new Map<number, InboundConnection>();
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Handed to inbound connections, so these hooks stay out of the public API. */
  private readonly inboundHost: InboundHost = {
    isPeer: (id) => this.peerIds.has(id),
    identified: (conn, id) => this.identified(conn, id),
    deliver: (from, frame) => this.onFrame(from, frame),
    connectionClosed: (conn) => this.connectionClosed(conn),
  };

  /** Binds, then starts dialing peers. */
  static async listen(opts: PeerTransportOptions): Promise<PeerTransport> {
    validateOptions(opts);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.listenHost, port: opts.listenPort }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const transport = new PeerTransport(opts, server);
    for (const link of transport.links.values()) link.start();
    return transport;
  }

  private constructor(opts: PeerTransportOptions, server: net.Server) {
    this.selfId = opts.selfId;
    this.maxFrameBytes = opts.maxFrameBytes;
    this.log = opts.log;
    this.server = server;
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    this.peerIds = new Set(opts.peers.map((p) => p.id));
    const hello = helloFrame(opts.selfId);
    for (const peer of opts.peers) {
      const log = this.log.child({ peer: peer.id, peerAddress: `${peer.host}:${peer.port}` });
      this.links.set(peer.id, new OutboundLink(peer, hello, log, (id) => this.onPeerUp(id)));
    }
    // Connections are only emitted from later event-loop turns, so none is missed before this.
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (err) => this.log.error({ err: err.message }, 'peer listener error'));
    this.log.info({ self: this.selfId, port: this.port }, 'peer transport listening');
  }

  /**
   * Queues a frame to a peer. Returns false (frame dropped) if there is no usable connection
   * and the small connect-time queue is full, or while the peer's socket holds too much
   * unsent data. Never throws for a down peer. The frame must not be modified afterwards.
   */
  send(to: number, frame: Buffer): boolean {
    if (this.closed) return false;
    const link = this.links.get(to);
    if (link === undefined) throw new PeerTransportError('PEER_UNKNOWN', `${to} is not a configured peer`);
    if (frame.length > this.maxFrameBytes) {
      throw new PeerTransportError('PEER_FRAME_TOO_LARGE', `frame of ${frame.length} bytes is over maxFrameBytes (${this.maxFrameBytes})`);
    }
    return link.send(frame);
  }

  /** True while the outbound connection to `id` is established. */
  isConnected(id: number): boolean {
    return this.links.get(id)?.isUp ?? false;
  }

  /** Stops dialing, closes the listener and every connection; resolves when all are closed. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    // server.close calls back once the accepted connections destroyed below have closed.
    const listenerClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const linksClosed = [...this.links.values()].map((link) => link.close());
    for (const conn of this.inbound) conn.socket.destroy();
    await Promise.all([listenerClosed, ...linksClosed]);
    this.log.info({ self: this.selfId }, 'peer transport closed');
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (this.closed) {
      socket.destroy();
      return;
    }
    let waitingForHello = 0;
    for (const conn of this.inbound) if (conn.peerId === null) waitingForHello++;
    if (waitingForHello >= HELLO_PENDING_MAX) {
      this.log.warn({ remote, reason: `${HELLO_PENDING_MAX} connections already wait for their hello` }, 'refusing peer connection');
      socket.destroy();
      return;
    }
    this.inbound.add(new InboundConnection(socket, remote, this.maxFrameBytes, this.log, this.inboundHost));
  }

  /** A newer connection from the same peer replaces the older one (the peer restarted or redialed). */
  private identified(conn: InboundConnection, id: number): void {
    const older = this.inboundByPeer.get(id);
    this.inboundByPeer.set(id, conn);
    if (older !== undefined) {
      this.log.info({ peer: id, remote: conn.remote, replaced: older.remote }, 'newer inbound connection from peer replaces the older one');
      older.socket.destroy();
    } else {
      this.log.info({ peer: id, remote: conn.remote }, 'inbound connection from peer up');
    }
  }

  private connectionClosed(conn: InboundConnection): void {
    this.inbound.delete(conn);
    if (conn.peerId === null || this.inboundByPeer.get(conn.peerId) !== conn) return;
    this.inboundByPeer.delete(conn.peerId);
    if (!this.closed) this.log.info({ peer: conn.peerId, remote: conn.remote }, 'inbound connection from peer down');
  }
}

/** What an inbound connection needs from the transport. */
interface InboundHost {
  isPeer(id: number): boolean;
  identified(conn: InboundConnection, id: number): void;
  deliver(from: number, frame: Buffer): void;
  connectionClosed(conn: InboundConnection): void;
}

/** A connection a peer dialed: receive only. Its first frame must be a valid hello. */
class InboundConnection {
  readonly socket: net.Socket;
  readonly remote: string;
  /** Null until the hello has been accepted. */
  peerId: number | null = null;
  private readonly decoder: FrameDecoder;
  private readonly log: Logger;
  private readonly host: InboundHost;

  constructor(socket: net.Socket, remote: string, maxFrameBytes: number, log: Logger, host: InboundHost) {
    this.socket = socket;
    this.remote = remote;
    this.decoder = new FrameDecoder(maxFrameBytes);
    this.log = log;
    this.host = host;
    socket.setNoDelay(true);
    socket.setTimeout(HELLO_TIMEOUT_MS);
    socket.on('timeout', () => this.refuse(`no hello within ${HELLO_TIMEOUT_MS} ms`));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ remote, peer: this.peerId, err: err.message }, 'inbound peer socket error'));
    socket.once('close', () => host.connectionClosed(this));
  }

  private onData(chunk: Buffer): void {
    if (this.socket.destroyed) return;
    this.decoder.push(chunk);
    for (;;) {
      let body: Buffer | null;
      try {
        body = this.decoder.next();
      } catch (e) {
        this.refuseFrame(e);
        return;
      }
      // onFrame may have closed the transport, and with it this socket.
      if (body === null || this.socket.destroyed) return;
      if (this.peerId === null) {
        if (!this.greet(body)) return;
      } else {
        this.host.deliver(this.peerId, body);
      }
    }
  }

  /** Checks the hello; false when the connection was refused. */
  private greet(body: Buffer): boolean {
    if (body.length !== HELLO_BYTES) return this.refuse(`hello of ${body.length} bytes, expected ${HELLO_BYTES}`);
    const magic = body.readUInt32BE(0);
    const version = body.readUInt32BE(4);
    const id = body.readUInt32BE(8);
    if (magic !== HELLO_MAGIC) return this.refuse(`bad magic 0x${magic.toString(16)} (not a zooraft peer)`);
    if (version !== PROTOCOL_VERSION) return this.refuse(`unsupported protocol version ${version}, expected ${PROTOCOL_VERSION}`);
    if (!this.host.isPeer(id)) return this.refuse(`member ${id} is not a configured peer`);
    this.peerId = id;
    this.socket.setTimeout(0);
    this.host.identified(this, id);
    return true;
  }

  private refuseFrame(e: unknown): void {
    if (e instanceof JuteError && e.code === 'FRAME_TOO_LARGE') {
      // The decoder keeps the offending length at its head.
      this.refuse('frame over maxFrameBytes', { frameBytes: this.decoder.peekInt() });
      return;
    }
    this.refuse(e instanceof Error ? e.message : String(e));
  }

  /** Malformed input costs this connection only. Returns false for greet's convenience. */
  private refuse(reason: string, extra: Record<string, unknown> = {}): false {
    this.log.warn({ remote: this.remote, peer: this.peerId, reason, ...extra }, 'closing inbound peer connection');
    this.socket.destroy();
    return false;
  }
}

type LinkState = 'idle' | 'connecting' | 'up' | 'backoff' | 'closed';

/** The connection this member dialed to one peer: send only, redialed with backoff. */
class OutboundLink {
  private readonly peer: PeerAddress;
  private readonly hello: Buffer;
  private readonly log: Logger;
  private readonly onUp: (id: number) => void;
  private state: LinkState = 'idle';
  private socket: net.Socket | null = null;
  /** Frames accepted while not connected; written right after the hello. */
  private connectQueue: Buffer[] = [];
  /** Frames sent during this event-loop turn, written together on the next tick. */
  private outgoing: Buffer[] = [];
  private flushScheduled = false;
  /** The socket holds over SOCKET_BACKLOG_BYTES_MAX: new frames are dropped until 'drain'. */
  private blocked = false;
  private droppedWhileBlocked = 0;
  private backoffMs = BACKOFF_MS_START;
  private retryTimer: NodeJS.Timeout | null = null;
  private upSinceMs = 0;
  /** The last state logged at info level, so a peer that stays down is logged once, not per retry. */
  private reported: 'up' | 'down' | null = null;
  private lastError = '';

  constructor(peer: PeerAddress, hello: Buffer, log: Logger, onUp: (id: number) => void) {
    this.peer = peer;
    this.hello = hello;
    this.log = log;
    this.onUp = onUp;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  start(): void {
    if (this.state === 'idle') this.dial();
  }

  send(frame: Buffer): boolean {
    switch (this.state) {
      case 'up':
        if (this.blocked) {
          this.droppedWhileBlocked++;
          return false;
        }
        this.outgoing.push(frame);
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          process.nextTick(() => this.flush());
        }
        return true;
      case 'closed':
        return false;
      case 'idle':
      case 'connecting':
      case 'backoff':
        if (this.connectQueue.length >= CONNECT_QUEUE_FRAMES_MAX) return false;
        this.connectQueue.push(frame);
        return true;
    }
  }

  close(): Promise<void> {
    this.state = 'closed';
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connectQueue = [];
    this.outgoing = [];
    const socket = this.socket;
    if (socket === null || socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private dial(): void {
    this.retryTimer = null;
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const socket = net.connect({ host: this.peer.host, port: this.peer.port });
    this.socket = socket;
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.on('timeout', () => socket.destroy(new Error(`not connected within ${CONNECT_TIMEOUT_MS} ms`)));
    socket.once('connect', () => this.onConnected(socket));
    // The acceptor never writes; reading also lets us see its FIN when it goes away.
    socket.on('data', () => {
      this.log.warn('peer wrote on a send-only connection; closing it');
      socket.destroy();
    });
    socket.on('error', (err) => {
      this.lastError = err.message;
    });
    socket.once('close', () => this.onClosed(socket));
  }

  private onConnected(socket: net.Socket): void {
    if (this.state !== 'connecting' || socket !== this.socket) return;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    this.state = 'up';
    this.upSinceMs = performance.now();
    this.blocked = false;
    this.droppedWhileBlocked = 0;
    if (this.reported !== 'up') this.log.info('connected to peer');
    this.reported = 'up';
    // The hello and whatever queued while connecting leave in one write, before anything onUp sends.
    this.outgoing = this.connectQueue.concat(this.outgoing);
    this.connectQueue = [];
    socket.cork();
    socket.write(this.hello);
    this.flush();
    socket.uncork();
    this.onUp(this.peer.id);
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    const frames = this.outgoing;
    this.outgoing = [];
    if (socket === null || this.state !== 'up' || frames.length === 0) return;
    const headers = Buffer.allocUnsafe(FRAME_HEADER_BYTES * frames.length);
    let accepted = true;
    socket.cork();
    frames.forEach((frame, i) => {
      const header = headers.subarray(i * FRAME_HEADER_BYTES, (i + 1) * FRAME_HEADER_BYTES);
      header.writeUInt32BE(frame.length, 0);
      socket.write(header);
      accepted = socket.write(frame);
    });
    socket.uncork();
    if (!accepted && socket.writableLength > SOCKET_BACKLOG_BYTES_MAX) this.block(socket);
  }

  /** A peer that stops reading must not make this process buffer without bound. */
  private block(socket: net.Socket): void {
    this.blocked = true;
    this.log.warn({ bufferedBytes: socket.writableLength, limitBytes: SOCKET_BACKLOG_BYTES_MAX }, 'peer is not keeping up; dropping frames to it until its socket drains');
    socket.once('drain', () => {
      if (socket !== this.socket || !this.blocked) return;
      this.blocked = false;
      this.log.info({ droppedFrames: this.droppedWhileBlocked }, 'peer socket drained; sending again');
      this.droppedWhileBlocked = 0;
    });
  }

  private onClosed(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    const wasUp = this.state === 'up';
    this.outgoing = [];
    this.blocked = false;
    if (this.state === 'closed') return;
    // Only a connection that lasted counts as success: a peer that accepts and then refuses
    // our hello at once must not be redialed every 50 ms.
    if (wasUp && performance.now() - this.upSinceMs >= BACKOFF_MS_MAX) this.backoffMs = BACKOFF_MS_START;
    const reason = this.lastError === '' ? 'closed by peer' : this.lastError;
    this.lastError = '';
    if (this.reported !== 'down') {
      this.log.info({ reason, retryMs: this.backoffMs }, wasUp ? 'connection to peer lost' : 'cannot connect to peer');
    } else {
      this.log.debug({ reason, retryMs: this.backoffMs }, 'peer connection attempt failed');
    }
    this.reported = 'down';
    this.state = 'backoff';
    this.retryTimer = setTimeout(() => this.dial(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MS_MAX);
  }
}

/** The dialer's first frame, framed: length, magic, version, sender id. */
function helloFrame(selfId: number): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_BYTES + HELLO_BYTES);
  out.writeUInt32BE(HELLO_BYTES, 0);
  out.writeUInt32BE(HELLO_MAGIC, 4);
  out.writeUInt32BE(PROTOCOL_VERSION, 8);
  out.writeUInt32BE(selfId, 12);
  return out;
}

function validateOptions(opts: PeerTransportOptions): void {
  const problems: string[] = [];
  const isU32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  const isPort = (v: number, min: number): boolean => Number.isInteger(v) && v >= min && v <= 65535;
  if (!isU32(opts.selfId)) problems.push(`selfId must be an integer from 0 to 2^32-1, got ${opts.selfId}`);
  if (!isPort(opts.listenPort, 0)) problems.push(`listenPort must be an integer from 0 to 65535, got ${opts.listenPort}`);
  // The hello itself is a frame, so the limit must let it through.
  if (!Number.isInteger(opts.maxFrameBytes) || opts.maxFrameBytes < HELLO_BYTES || opts.maxFrameBytes > FRAME_BYTES_LIMIT) {
    problems.push(`maxFrameBytes must be an integer from ${HELLO_BYTES} to ${FRAME_BYTES_LIMIT}, got ${opts.maxFrameBytes}`);
  }
  const seen = new Set<number>();
  for (const peer of opts.peers) {
    if (!isU32(peer.id)) problems.push(`peer id must be an integer from 0 to 2^32-1, got ${peer.id}`);
    if (peer.id === opts.selfId) problems.push(`peer ${peer.id} is this member (selfId)`);
    if (seen.has(peer.id)) problems.push(`peer ${peer.id} is listed twice`);
    seen.add(peer.id);
    if (peer.host === '') problems.push(`peer ${peer.id} has an empty host`);
    if (!isPort(peer.port, 1)) problems.push(`peer ${peer.id} port must be an integer from 1 to 65535, got ${peer.port}`);
  }
  if (problems.length > 0) throw new PeerTransportError('PEER_BAD_OPTIONS', `invalid peer transport options: ${problems.join('; ')}`);
}
