// The Raft peer transport over real TCP on 127.0.0.1: frames flow both ways in order, a
// restarted member is redialed, bad input costs only its own connection, a down or slow peer
// makes send() drop (never throw), and close() leaves no socket or timer behind.
// Serial: the close test counts the process's live handles, and ports are picked up front.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import net from 'node:net';
import { pickFreePorts } from '../../compat/zookeeper-process.js';
import { silentLogger } from '../../src/platform/log.js';
import { CONNECT_QUEUE_FRAMES_MAX, PeerTransport, PeerTransportError, SOCKET_BACKLOG_BYTES_MAX } from '../../src/replica/peer-transport.js';
import type { PeerTransportOptions } from '../../src/replica/peer-transport.js';
import { captureLog } from '../storage/fixtures.js';
import type { CapturedLog } from '../storage/fixtures.js';

const HOST = '127.0.0.1';
/** Bound on every wait in this file. */
const WAIT_MS = 5000;
const WARN = 40;

interface Member {
  transport: PeerTransport;
  /** Frames received, as text, per sender. */
  received: Map<number, string[]>;
  /** Peers whose outbound connection came up, in order (onPeerUp). */
  ups: number[];
}

/** Fails with `what` unless `cond` holds within `ms`: for states with no event to wait on. */
async function until(cond: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function portOf(ports: Map<number, number>, id: number): number {
  const port = ports.get(id);
  if (port === undefined) throw new Error(`no port picked for member ${id}`);
  return port;
}

async function freePorts(ids: readonly number[]): Promise<Map<number, number>> {
  const picked = await pickFreePorts(ids.length);
  return new Map(ids.map((id, i) => [id, picked[i] as number]));
}

/** Member `id` of the ensemble whose ports are `ports`, closed when the test ends. */
async function start(t: ExecutionContext, id: number, ports: Map<number, number>, extra: Partial<PeerTransportOptions> = {}): Promise<Member> {
  const peers = [...ports].filter(([peerId]) => peerId !== id).map(([peerId, port]) => ({ id: peerId, host: HOST, port }));
  const transport = await PeerTransport.listen({
    selfId: id,
    listenHost: HOST,
    listenPort: portOf(ports, id),
    peers,
    maxFrameBytes: 1024 * 1024,
    log: silentLogger(),
    ...extra,
  });
  t.teardown(() => within(transport.close(), `member ${id} to close`));
  const member: Member = { transport, received: new Map(), ups: [] };
  transport.onFrame = (from, frame) => {
    const list = member.received.get(from) ?? [];
    list.push(frame.toString());
    member.received.set(from, list);
  };
  transport.onPeerUp = (peer) => member.ups.push(peer);
  return member;
}

function receivedFrom(member: Member, from: number): string[] {
  return member.received.get(from) ?? [];
}

/** A framed hello as the spec draws it: length 12, 'ZRPT', version, sender id. */
function hello(id: number, magic = 0x5a525054, version = 1): Buffer {
  const out = Buffer.alloc(16);
  out.writeUInt32BE(12, 0);
  out.writeUInt32BE(magic, 4);
  out.writeUInt32BE(version, 8);
  out.writeUInt32BE(id, 12);
  return out;
}

function framed(body: Buffer | string): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
}

/** A raw client to `port` that ignores what it reads; destroyed when the test ends. */
async function rawConnect(t: ExecutionContext, port: number): Promise<net.Socket> {
  const socket = net.connect({ host: HOST, port });
  t.teardown(() => void socket.destroy());
  socket.on('error', () => undefined);
  socket.resume();
  await within(new Promise((resolve) => socket.once('connect', resolve)), `a connection to port ${port}`);
  return socket;
}

function closed(socket: net.Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

function warnings(capture: CapturedLog): Array<Record<string, unknown>> {
  return capture.lines.filter((l) => l.level === WARN);
}

/** The counts of handle kinds close() must give back (sockets, listeners, timers). */
function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 };
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

test.serial('three members exchange frames both ways, each stream in send order', async (t) => {
  const ids = [1, 2, 3];
  const ports = await freePorts(ids);
  const members = await Promise.all(ids.map((id) => start(t, id, ports)));
  /** Every ordered pair: [receiving member, its id, the peer that sends to it]. */
  const pairs = members.flatMap((m, k) => {
    const self = ids[k] ?? -1;
    return ids.filter((id) => id !== self).map((peer): [Member, number, number] => [m, self, peer]);
  });
  await until(() => pairs.every(([m, , peer]) => m.transport.isConnected(peer)), 'every outbound connection to come up');
  for (const [m, self] of pairs) t.deepEqual([...m.ups].sort(), ids.filter((id) => id !== self), `onPeerUp on member ${self}`);

  // An empty frame, then tagged frames of growing size (up to 70 KB, split across reads),
  // sent over several event-loop turns.
  const rounds = 200;
  const payload = (from: number, to: number, i: number): string => (i === 0 ? '' : `${from}>${to}#${i}:${'x'.repeat((i * 7919) % 70_000)}`);
  for (let i = 0; i < rounds; i++) {
    for (const [m, self, peer] of pairs) t.true(m.transport.send(peer, Buffer.from(payload(self, peer, i))));
    if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
  }
  await until(() => pairs.every(([m, , peer]) => receivedFrom(m, peer).length >= rounds), 'every frame to arrive');
  for (const [m, self, peer] of pairs) {
    const expected = Array.from({ length: rounds }, (_, i) => payload(peer, self, i));
    t.deepEqual(receivedFrom(m, peer), expected, `frames ${peer} -> ${self}`);
  }
});

test.serial('a restarted member gets frames again: queued ones first, and onPeerUp fires', async (t) => {
  const ports = await freePorts([1, 2]);
  const a = await start(t, 1, ports);
  const b = await start(t, 2, ports);
  await until(() => a.transport.isConnected(2) && b.transport.isConnected(1), 'both connections');
  t.deepEqual(a.ups, [2]);
  t.true(a.transport.send(2, Buffer.from('before')));
  await until(() => receivedFrom(b, 1).length === 1, 'the first frame');
  t.deepEqual(receivedFrom(b, 1), ['before']);

  await within(b.transport.close(), 'member 2 to close');
  await until(() => !a.transport.isConnected(2), 'member 1 to see member 2 go');
  for (const text of ['q1', 'q2', 'q3']) t.true(a.transport.send(2, Buffer.from(text)), 'queued while member 2 is down');

  const b2 = await start(t, 2, ports);
  t.is(b2.transport.port, portOf(ports, 2));
  await until(() => a.ups.length === 2, 'onPeerUp after the restart');
  t.deepEqual(a.ups, [2, 2]);
  t.true(a.transport.send(2, Buffer.from('after')));
  t.true(b2.transport.send(1, Buffer.from('back')));
  await until(() => receivedFrom(b2, 1).length === 4 && receivedFrom(a, 2).length === 1, 'frames both ways after the restart');
  t.deepEqual(receivedFrom(b2, 1), ['q1', 'q2', 'q3', 'after']);
  t.deepEqual(receivedFrom(a, 2), ['back']);
});

test.serial('a frame over maxFrameBytes closes only that connection; the next connection works', async (t) => {
  const ports = await freePorts([1, 2]);
  const capture = captureLog();
  const maxFrameBytes = 1024;
  // Member 2 is never started: only raw sockets speak as it.
  const a = await start(t, 1, ports, { maxFrameBytes, log: capture.log });

  const first = await rawConnect(t, a.transport.port);
  first.write(Buffer.concat([hello(2), framed(Buffer.alloc(maxFrameBytes, 'a')), framed(Buffer.alloc(maxFrameBytes + 1, 'b'))]));
  await within(closed(first), 'the oversize frame to close the connection');
  t.deepEqual(receivedFrom(a, 2), ['a'.repeat(maxFrameBytes)], 'a frame of exactly maxFrameBytes is delivered, the bigger one is not');
  const warning = warnings(capture).find((l) => l['reason'] === 'frame over maxFrameBytes');
  t.is(warning?.['frameBytes'], maxFrameBytes + 1);
  t.regex(String(warning?.['remote']), /^127\.0\.0\.1:\d+$/);

  const second = await rawConnect(t, a.transport.port);
  second.write(Buffer.concat([hello(2), framed('still works')]));
  await until(() => receivedFrom(a, 2).length === 2, 'a frame on the next connection');
  t.is(receivedFrom(a, 2)[1], 'still works');
  t.false(second.closed);
});

test.serial('a hello with an unknown id, bad magic, another version or a bad size is refused', async (t) => {
  const ports = await freePorts([1, 2]);
  const capture = captureLog();
  const a = await start(t, 1, ports, { log: capture.log });
  const shortHello = Buffer.concat([framed(hello(2).subarray(4, 12))]);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['unknown id', hello(99), /member 99 is not a configured peer/],
    ['own id', hello(1), /member 1 is not a configured peer/],
    ['bad magic', hello(2, 0x47455420), /bad magic/],
    ['other version', hello(2, 0x5a525054, 2), /unsupported protocol version 2/],
    ['short hello', shortHello, /hello of 8 bytes/],
    ['negative length', Buffer.from('ffffffff', 'hex'), /negative frame length/],
  ];
  for (const [name, bytes, reason] of cases) {
    const socket = await rawConnect(t, a.transport.port);
    const localPort = socket.localPort;
    // A data frame right behind the hello must not be delivered either.
    socket.write(Buffer.concat([bytes, framed(`from ${name}`)]));
    await within(closed(socket), `${name} to be refused`);
    const warning = warnings(capture).find((l) => l['remote'] === `${HOST}:${localPort}`);
    t.regex(String(warning?.['reason']), reason, name);
  }
  t.is(a.received.size, 0, 'no frame from a refused connection reached onFrame');

  const good = await rawConnect(t, a.transport.port);
  good.write(Buffer.concat([hello(2), framed('welcome')]));
  await until(() => receivedFrom(a, 2).length === 1, 'a frame after a valid hello');
  t.deepEqual(receivedFrom(a, 2), ['welcome']);
});

test.serial('a newer inbound connection from the same peer replaces the older one', async (t) => {
  const ports = await freePorts([1, 2]);
  const a = await start(t, 1, ports);
  const older = await rawConnect(t, a.transport.port);
  older.write(Buffer.concat([hello(2), framed('old')]));
  await until(() => receivedFrom(a, 2).length === 1, 'the frame on the older connection');

  const newer = await rawConnect(t, a.transport.port);
  newer.write(Buffer.concat([hello(2), framed('new')]));
  await within(closed(older), 'the older connection to be closed');
  await until(() => receivedFrom(a, 2).length === 2, 'the frame on the newer connection');
  t.deepEqual(receivedFrom(a, 2), ['old', 'new']);
  t.false(newer.closed);
});

test.serial('send() to a down peer queues a few frames, then returns false and never throws', async (t) => {
  const ports = await freePorts([1, 2]);
  const capture = captureLog();
  const a = await start(t, 1, ports, { log: capture.log });
  t.false(a.transport.isConnected(2));
  const queued = Array.from({ length: CONNECT_QUEUE_FRAMES_MAX }, (_, i) => `f${i}`);
  for (const text of queued) t.true(a.transport.send(2, Buffer.from(text)));
  for (let i = 0; i < 100; i++) t.false(a.transport.send(2, Buffer.from(`dropped${i}`)));
  t.false(a.transport.isConnected(2));

  // Caller bugs are typed errors, unlike a down peer.
  t.is(t.throws(() => a.transport.send(7, Buffer.from('x')), { instanceOf: PeerTransportError })?.code, 'PEER_UNKNOWN');
  t.is(t.throws(() => a.transport.send(2, Buffer.alloc(1024 * 1024 + 1)), { instanceOf: PeerTransportError })?.code, 'PEER_FRAME_TOO_LARGE');

  // Redials are logged at debug; the change to "down" once at info.
  const logged = (msg: string): number => capture.lines.filter((l) => l.msg === msg).length;
  await until(() => logged('peer connection attempt failed') >= 2, 'two more dial attempts');
  t.is(logged('cannot connect to peer'), 1);

  // Member 2 appears: the queued frames, and only those, arrive in order.
  const b = await start(t, 2, ports);
  await until(() => a.ups.length === 1 && receivedFrom(b, 1).length === queued.length, 'the queued frames');
  t.deepEqual(receivedFrom(b, 1), queued);
  t.true(a.transport.isConnected(2));
  t.is(logged('connected to peer'), 1);
  t.is(logged('cannot connect to peer'), 1);
});

test.serial('a peer that stops reading: frames are dropped past 64 MiB buffered, and flow again after drain', async (t) => {
  const ports = await freePorts([1, 2]);
  const capture = captureLog();
  // Member 2 is a plain listener that reads nothing until told to.
  let peerSocket: net.Socket | null = null;
  let receivedBytes = 0;
  let tail = Buffer.alloc(0);
  const fake = net.createServer((socket) => {
    peerSocket = socket;
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      tail = Buffer.concat([tail, chunk]).subarray(-16);
    });
  });
  t.teardown(() => new Promise<void>((resolve) => {
    peerSocket?.destroy();
    fake.close(() => resolve());
  }));
  await new Promise<void>((resolve) => fake.listen(portOf(ports, 2), HOST, resolve));
  const frameBytes = 1024 * 1024;
  const a = await start(t, 1, ports, { log: capture.log, maxFrameBytes: 2 * frameBytes });
  await until(() => a.transport.isConnected(2) && peerSocket !== null, 'the connection to the silent peer');

  const big = Buffer.alloc(frameBytes, 'z');
  const frames = Math.ceil((SOCKET_BACKLOG_BYTES_MAX * 1.5) / frameBytes);
  for (let i = 0; i < frames; i++) t.true(a.transport.send(2, big));
  await new Promise((resolve) => setImmediate(resolve));
  t.false(a.transport.send(2, Buffer.from('dropped')), 'over the backlog limit, frames are dropped');
  t.false(a.transport.send(2, Buffer.from('dropped')));
  t.is(warnings(capture).filter((l) => String(l['msg']).includes('dropping frames')).length, 1, 'logged once');

  (peerSocket as net.Socket | null)?.resume();
  await until(() => capture.lines.some((l) => l['msg'] === 'peer socket drained; sending again'), 'the socket to drain', 20_000);
  t.is(capture.lines.find((l) => l['msg'] === 'peer socket drained; sending again')?.['droppedFrames'], 2);
  t.true(a.transport.send(2, Buffer.from('after')));
  const expectedBytes = 16 + frames * (4 + frameBytes) + 4 + 'after'.length;
  await until(() => receivedBytes >= expectedBytes, 'every accepted frame at the peer', 20_000);
  t.is(receivedBytes, expectedBytes, 'hello, every accepted frame and nothing dropped');
  t.is(tail.subarray(-9).toString('hex'), framed('after').toString('hex'));
});

test.serial('close() stops dialing and closes every socket, listener and timer', async (t) => {
  // Handles of listeners closed by earlier tests' teardowns are freed one loop turn later.
  await new Promise((resolve) => setTimeout(resolve, 1));
  const before = liveHandles();
  // Member 3 is never started, so member 1 and 2 keep redialing it on a timer.
  const ports = await freePorts([1, 2, 3]);
  const a = await start(t, 1, ports);
  const b = await start(t, 2, ports);
  await until(() => a.transport.isConnected(2) && b.transport.isConnected(1), 'both connections');
  t.true(a.transport.send(2, Buffer.from('x')));
  t.true(a.transport.send(3, Buffer.from('queued for a down peer')));
  // An accepted connection still waiting for its hello (its hello timeout armed).
  const pending = net.connect({ host: HOST, port: a.transport.port });
  pending.on('error', () => undefined);
  pending.resume();

  await within(Promise.all([a.transport.close(), b.transport.close()]), 'close()');
  await within(closed(pending), 'the pending connection to be closed');
  t.false(a.transport.isConnected(2));
  t.false(a.transport.send(2, Buffer.from('late')));
  await within(a.transport.close(), 'a second close()');
  // A closed listener's handle is freed in libuv's close phase, one loop turn after 'close'
  // (its port is already released); sockets and timers are gone at once.
  const now = liveHandles();
  t.is(now['TCPSocketWrap'], before['TCPSocketWrap']);
  t.is(now['Timeout'], before['Timeout']);
  await until(() => JSON.stringify(liveHandles()) === JSON.stringify(before), 'the listeners\' handles to be freed', 1000);
  t.deepEqual(liveHandles(), before);
});
