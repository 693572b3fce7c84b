// Captures golden bytes from a REAL ZooKeeper 3.8 server for the codec tests.
//
// Run by hand (needs Debian's zookeeper package and a JRE):
//   npx tsc -p tsconfig.json && node dist/compat/capture/capture-golden.js [out.json]
// Default output: test/fixtures/golden/zookeeper-3.8.0.json (in the source tree).
//
// It starts ZooKeeper (compat/zookeeper-process.ts), puts a TCP proxy between
// compat/raw-client.ts and the server, and records every frame in both directions while a
// scripted session touches every record in wire/records.ts and wire/multi.ts. Each frame is
// saved with its length prefix stripped, labelled with the step that caused it and the
// records it holds ('RequestHeader+CreateRequest', 'ReplyHeader+Create2Response', ...).
// Session ids, passwords and times differ per run, so a re-capture changes the file.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../raw-client.js';
import type { RawReply } from '../raw-client.js';
import { ZooKeeperProcess } from '../zookeeper-process.js';
import {
  ACL,
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteContainerRequest,
  DeleteRequest,
  ExistsRequest,
  FrameDecoder,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  GetSASLRequest,
  OpCode,
  ReconfigRequest,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  SyncRequest,
  Xid,
  writeMultiRequest,
} from '../../wire/index.js';
import type { JuteWriter, MultiOp } from '../../wire/index.js';

export interface GoldenFrame {
  name: string;
  direction: 'c2s' | 's2c';
  /** The records in the frame, joined by '+': e.g. 'ReplyHeader+GetDataResponse'. */
  record: string;
  hex: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = path.resolve(here, '../../../test/fixtures/golden/zookeeper-3.8.0.json');

const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** bob:secret -> base64(sha1("bob:secret")) (ZOOKEEPER.md §7). */
const BOB_ACL: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=' } }];

interface Label {
  step: string;
  c2s: string;
  s2c: string;
}

/** A proxy that records complete frames per connection, labelled with the current step. */
class RecordingProxy {
  readonly frames: GoldenFrame[] = [];
  label: Label = { step: 'none', c2s: '?', s2c: '?' };
  private server: net.Server | null = null;
  private readonly sockets: net.Socket[] = [];
  private readonly seen = new Map<string, number>();

  async listen(targetPort: number): Promise<number> {
    const server = net.createServer((client) => this.onClient(client, targetPort));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no port');
    return addr.port;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server === null ? resolve() : this.server.close(() => resolve())));
  }

  private onClient(client: net.Socket, targetPort: number): void {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    this.sockets.push(client, upstream);
    const c2s = new FrameDecoder(16 * 1024 * 1024);
    const s2c = new FrameDecoder(16 * 1024 * 1024);
    let handshakeC2s = true;
    let handshakeS2c = true;
    client.on('data', (chunk: Buffer) => {
      c2s.push(chunk);
      for (let body = c2s.next(); body !== null; body = c2s.next()) {
        this.record('c2s', handshakeC2s ? 'ConnectRequest' : this.label.c2s, Buffer.from(body));
        handshakeC2s = false;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      s2c.push(chunk);
      for (let body = s2c.next(); body !== null; body = s2c.next()) {
        const frameBody = Buffer.from(body);
        let rec = handshakeS2c ? 'ConnectResponse' : this.label.s2c;
        if (!handshakeS2c && frameBody.length >= 4 && frameBody.readInt32BE(0) === Xid.Notification) rec = 'ReplyHeader+WatcherEvent';
        this.record('s2c', rec, frameBody);
        handshakeS2c = false;
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }

  private record(direction: 'c2s' | 's2c', record: string, body: Buffer): void {
    const suffix = record === 'ReplyHeader+WatcherEvent' ? ':notification' : '';
    const base = `${this.label.step}${suffix}:${direction}`;
    const n = (this.seen.get(base) ?? 0) + 1;
    this.seen.set(base, n);
    this.frames.push({ name: n === 1 ? base : `${base}#${n}`, direction, record, hex: body.toString('hex') });
  }
}

type Body = (w: JuteWriter) => void;

interface Step {
  name: string;
  op: number;
  c2s: string;
  s2c: string;
  body?: Body;
  xid?: number;
  /** Which client sends it (default 'a'). */
  on?: 'a' | 'b' | 'c';
  /** Expected reply err, checked so a changed server behaviour is noticed at capture time. */
  err?: number;
  /** The server closes the connection after replying (unknown opcode). */
  closes?: boolean;
  /** Wait for this many events in total on the sending client after the reply. */
  events?: number;
}

function rec<T>(type: { write(w: JuteWriter, v: T): void }, v: T): Body {
  return (w) => type.write(w, v);
}

function multi(ops: MultiOp[]): Body {
  return (w) => writeMultiRequest(w, ops);
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

function steps(): Step[] {
  return [
    { name: 'create', op: OpCode.create, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+CreateResponse',
      body: rec(CreateRequest, { path: '/golden', data: text('hello'), acl: OPEN_ACL, flags: 0 }), err: 0 },
    { name: 'create-null-data', op: OpCode.create, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+CreateResponse',
      body: rec(CreateRequest, { path: '/golden/nulldata', data: null, acl: OPEN_ACL, flags: 0 }), err: 0 },
    { name: 'create2', op: OpCode.create2, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+Create2Response',
      body: rec(CreateRequest, { path: '/golden/c2', data: text('two'), acl: OPEN_ACL, flags: 0 }), err: 0 },
    { name: 'createContainer', op: OpCode.createContainer, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+Create2Response',
      body: rec(CreateRequest, { path: '/golden/container', data: text(''), acl: OPEN_ACL, flags: 4 }), err: 0 },
    { name: 'createTTL', op: OpCode.createTTL, c2s: 'RequestHeader+CreateTTLRequest', s2c: 'ReplyHeader+Create2Response',
      body: rec(CreateTTLRequest, { path: '/golden/ttl', data: text('ttl'), acl: OPEN_ACL, flags: 5, ttl: 60000n }), err: 0 },
    { name: 'create-sequential', op: OpCode.create, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+CreateResponse',
      body: rec(CreateRequest, { path: '/golden/seq-', data: text('s'), acl: OPEN_ACL, flags: 2 }), err: 0 },
    { name: 'create-ephemeral', op: OpCode.create, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+CreateResponse',
      body: rec(CreateRequest, { path: '/golden/eph', data: text('e'), acl: OPEN_ACL, flags: 1 }), err: 0 },
    { name: 'create-nodeexists', op: OpCode.create, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader',
      body: rec(CreateRequest, { path: '/golden', data: text('x'), acl: OPEN_ACL, flags: 0 }), err: -110 },
    { name: 'exists-hit-watch', op: OpCode.exists, c2s: 'RequestHeader+ExistsRequest', s2c: 'ReplyHeader+ExistsResponse',
      body: rec(ExistsRequest, { path: '/golden', watch: true }), err: 0 },
    { name: 'exists-miss', op: OpCode.exists, c2s: 'RequestHeader+ExistsRequest', s2c: 'ReplyHeader',
      body: rec(ExistsRequest, { path: '/golden/missing', watch: false }), err: -101 },
    { name: 'getData', op: OpCode.getData, c2s: 'RequestHeader+GetDataRequest', s2c: 'ReplyHeader+GetDataResponse',
      body: rec(GetDataRequest, { path: '/golden', watch: true }), err: 0 },
    { name: 'getData-null', op: OpCode.getData, c2s: 'RequestHeader+GetDataRequest', s2c: 'ReplyHeader+GetDataResponse',
      body: rec(GetDataRequest, { path: '/golden/nulldata', watch: false }), err: 0 },
    { name: 'setData', op: OpCode.setData, c2s: 'RequestHeader+SetDataRequest', s2c: 'ReplyHeader+SetDataResponse',
      body: rec(SetDataRequest, { path: '/golden', data: text('world'), version: 0 }), err: 0, events: 1 },
    { name: 'setData-badversion', op: OpCode.setData, c2s: 'RequestHeader+SetDataRequest', s2c: 'ReplyHeader',
      body: rec(SetDataRequest, { path: '/golden', data: text('x'), version: 7 }), err: -103 },
    { name: 'auth', op: OpCode.auth, xid: Xid.Auth, c2s: 'RequestHeader+AuthPacket', s2c: 'ReplyHeader',
      body: rec(AuthPacket, { type: 0, scheme: 'digest', auth: text('bob:secret') }), err: 0 },
    { name: 'setACL', op: OpCode.setACL, c2s: 'RequestHeader+SetACLRequest', s2c: 'ReplyHeader+SetACLResponse',
      body: rec(SetACLRequest, { path: '/golden/c2', acl: BOB_ACL, version: 0 }), err: 0 },
    { name: 'setACL-invalid', op: OpCode.setACL, c2s: 'RequestHeader+SetACLRequest', s2c: 'ReplyHeader',
      body: rec(SetACLRequest, { path: '/golden/c2', acl: [], version: -1 }), err: -114 },
    { name: 'getACL', op: OpCode.getACL, c2s: 'RequestHeader+GetACLRequest', s2c: 'ReplyHeader+GetACLResponse',
      body: rec(GetACLRequest, { path: '/golden/c2' }), err: 0 },
    { name: 'getData-noauth', on: 'b', op: OpCode.getData, c2s: 'RequestHeader+GetDataRequest', s2c: 'ReplyHeader',
      body: rec(GetDataRequest, { path: '/golden/c2', watch: false }), err: -102 },
    { name: 'getChildren', op: OpCode.getChildren, c2s: 'RequestHeader+GetChildrenRequest', s2c: 'ReplyHeader+GetChildrenResponse',
      body: rec(GetChildrenRequest, { path: '/golden', watch: true }), err: 0 },
    { name: 'getChildren2', op: OpCode.getChildren2, c2s: 'RequestHeader+GetChildren2Request', s2c: 'ReplyHeader+GetChildren2Response',
      body: rec(GetChildren2Request, { path: '/golden', watch: false }), err: 0 },
    { name: 'sync', op: OpCode.sync, c2s: 'RequestHeader+SyncRequest', s2c: 'ReplyHeader+SyncResponse',
      body: rec(SyncRequest, { path: '/golden' }), err: 0 },
    { name: 'checkWatches', op: OpCode.checkWatches, c2s: 'RequestHeader+CheckWatchesRequest', s2c: 'ReplyHeader',
      body: rec(CheckWatchesRequest, { path: '/golden', type: 1 }), err: 0 },
    { name: 'checkWatches-nowatcher', op: OpCode.checkWatches, c2s: 'RequestHeader+CheckWatchesRequest', s2c: 'ReplyHeader',
      body: rec(CheckWatchesRequest, { path: '/golden/c2', type: 2 }), err: -121 },
    { name: 'removeWatches', op: OpCode.removeWatches, c2s: 'RequestHeader+RemoveWatchesRequest', s2c: 'ReplyHeader',
      body: rec(RemoveWatchesRequest, { path: '/golden', type: 1 }), err: 0 },
    { name: 'multi', op: OpCode.multi, c2s: 'RequestHeader+MultiRequest', s2c: 'ReplyHeader+MultiResponse',
      body: multi([
        { type: OpCode.create, req: { path: '/golden/m1', data: text('m1'), acl: OPEN_ACL, flags: 0 } },
        { type: OpCode.create2, req: { path: '/golden/m2', data: text('m2'), acl: OPEN_ACL, flags: 0 } },
        { type: OpCode.setData, req: { path: '/golden', data: text('multi'), version: 1 } },
        { type: OpCode.check, req: { path: '/golden', version: 2 } },
        { type: OpCode.delete, req: { path: '/golden/m1', version: 0 } },
      ]), err: 0 },
    { name: 'multi-failure', op: OpCode.multi, c2s: 'RequestHeader+MultiRequest', s2c: 'ReplyHeader+MultiResponse',
      body: multi([
        { type: OpCode.create, req: { path: '/golden/f1', data: null, acl: OPEN_ACL, flags: 0 } },
        { type: OpCode.check, req: { path: '/golden', version: 99 } },
        { type: OpCode.delete, req: { path: '/golden/m2', version: -1 } },
      ]), err: 0 },
    { name: 'multi-empty', op: OpCode.multi, c2s: 'RequestHeader+MultiRequest', s2c: 'ReplyHeader+MultiResponse',
      body: multi([]), err: 0 },
    { name: 'multiRead', op: OpCode.multiRead, c2s: 'RequestHeader+MultiRequest', s2c: 'ReplyHeader+MultiResponse',
      body: multi([
        { type: OpCode.getData, req: { path: '/golden', watch: false } },
        { type: OpCode.getChildren, req: { path: '/golden', watch: false } },
        { type: OpCode.getData, req: { path: '/golden/none', watch: false } },
      ]), err: 0 },
    { name: 'getEphemerals', op: OpCode.getEphemerals, c2s: 'RequestHeader+GetEphemeralsRequest', s2c: 'ReplyHeader+GetEphemeralsResponse',
      body: rec(GetEphemeralsRequest, { prefixPath: '/' }), err: 0 },
    { name: 'getAllChildrenNumber', op: OpCode.getAllChildrenNumber, c2s: 'RequestHeader+GetAllChildrenNumberRequest',
      s2c: 'ReplyHeader+GetAllChildrenNumberResponse', body: rec(GetAllChildrenNumberRequest, { path: '/golden' }), err: 0 },
    { name: 'addWatch', op: OpCode.addWatch, c2s: 'RequestHeader+AddWatchRequest', s2c: 'ReplyHeader+ErrorResponse',
      body: rec(AddWatchRequest, { path: '/golden', mode: 1 }), err: 0 },
    { name: 'create-under-recursive-watch', op: OpCode.create, c2s: 'RequestHeader+CreateRequest', s2c: 'ReplyHeader+CreateResponse',
      body: rec(CreateRequest, { path: '/golden/c2/deep', data: null, acl: BOB_ACL, flags: 0 }), err: 0, events: 2 },
    { name: 'setWatches', op: OpCode.setWatches, xid: Xid.SetWatches, c2s: 'RequestHeader+SetWatches', s2c: 'ReplyHeader',
      body: rec(SetWatches, { relativeZxid: 1n, dataWatches: ['/golden'], existWatches: ['/golden/later'], childWatches: ['/golden'] }), err: 0 },
    { name: 'setWatches2', op: OpCode.setWatches2, xid: Xid.SetWatches, c2s: 'RequestHeader+SetWatches2', s2c: 'ReplyHeader',
      body: rec(SetWatches2, {
        relativeZxid: 0x7fffffffn,
        dataWatches: ['/golden'],
        existWatches: [],
        childWatches: ['/golden/c2'],
        persistentWatches: ['/golden/p'],
        persistentRecursiveWatches: ['/golden/r'],
      }), err: 0 },
    { name: 'whoAmI', op: OpCode.whoAmI, c2s: 'RequestHeader', s2c: 'ReplyHeader+WhoAmIResponse', err: 0 },
    { name: 'ping', op: OpCode.ping, xid: Xid.Ping, c2s: 'RequestHeader', s2c: 'ReplyHeader', err: 0 },
    { name: 'delete', op: OpCode.delete, c2s: 'RequestHeader+DeleteRequest', s2c: 'ReplyHeader',
      body: rec(DeleteRequest, { path: '/golden/m2', version: 0 }), err: 0 },
    { name: 'delete-notempty', op: OpCode.delete, c2s: 'RequestHeader+DeleteRequest', s2c: 'ReplyHeader',
      body: rec(DeleteRequest, { path: '/golden', version: -1 }), err: -111 },
    { name: 'deleteContainer', op: OpCode.deleteContainer, c2s: 'RequestHeader+DeleteContainerRequest', s2c: 'ReplyHeader',
      body: rec(DeleteContainerRequest, { path: '/golden/container' }) },
    { name: 'reconfig', op: OpCode.reconfig, c2s: 'RequestHeader+ReconfigRequest', s2c: 'ReplyHeader',
      body: rec(ReconfigRequest, { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n }) },
    { name: 'closeSession', op: OpCode.closeSession, c2s: 'RequestHeader', s2c: 'ReplyHeader', err: 0, closes: true },
    { name: 'sasl', on: 'b', op: OpCode.sasl, c2s: 'RequestHeader+GetSASLRequest', s2c: 'ReplyHeader+SetSASLResponse',
      body: rec(GetSASLRequest, { token: Buffer.from('00', 'hex') }) },
    { name: 'unknown-opcode', on: 'c', op: 99, c2s: 'RequestHeader', s2c: 'ReplyHeader', err: -6, closes: true },
  ];
}

async function runStep(step: Step, client: RawClient): Promise<RawReply> {
  const reply = await client.request(step.op, step.body, step.xid);
  if (step.err !== undefined && reply.err !== step.err) {
    throw new Error(`step ${step.name}: expected err ${step.err}, ZooKeeper replied ${reply.err}`);
  }
  if (step.events !== undefined) await client.waitForEvents(step.events, 5000);
  if (step.closes === true) await client.waitForClose(5000);
  return reply;
}

/** Runs the scripted session through a recording proxy and returns the frames. */
export async function captureGolden(): Promise<GoldenFrame[]> {
  const zk = await ZooKeeperProcess.start({ extendedTypes: true });
  const proxy = new RecordingProxy();
  try {
    const port = await proxy.listen(zk.port);
    proxy.label = { step: 'connect-readonly-byte', c2s: 'ConnectRequest', s2c: 'ConnectResponse' };
    const a = await RawClient.connect({ host: '127.0.0.1', port, readOnly: false });
    proxy.label = { step: 'connect-no-readonly-byte', c2s: 'ConnectRequest', s2c: 'ConnectResponse' };
    const b = await RawClient.connect({ host: '127.0.0.1', port, readOnly: null });
    proxy.label = { step: 'connect-third', c2s: 'ConnectRequest', s2c: 'ConnectResponse' };
    const c = await RawClient.connect({ host: '127.0.0.1', port });
    const clients = { a, b, c };
    for (const step of steps()) {
      proxy.label = { step: step.name, c2s: step.c2s, s2c: step.s2c };
      const reply = await runStep(step, clients[step.on ?? 'a']);
      process.stderr.write(`${step.name}: err ${reply.err}, ${reply.body.length} body bytes\n`);
    }
    await b.disconnect();
    return proxy.frames;
  } finally {
    await proxy.close();
    await zk.stop();
  }
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? DEFAULT_OUT;
  const frames = await captureGolden();
  await fs.mkdir(path.dirname(out), { recursive: true });
  const lines = frames.map((f) => `  ${JSON.stringify(f)}`);
  await fs.writeFile(out, `[\n${lines.join(',\n')}\n]\n`);
  process.stderr.write(`wrote ${frames.length} frames to ${out}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`capture failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
