// Jute codec from two more angles: seeded property round-trips for every record, and
// garbage input (random bytes, huge declared lengths, truncation) that must end in a typed
// JuteError, never another exception, a hang or a huge allocation.
import test from 'ava';
import {
  JUTE_MAX_BUFFER_DEFAULT,
  JuteError,
  JuteReader,
  JuteWriter,
  OpCode,
  buffer,
  list,
  path,
  readMultiRequest,
  readMultiResponse,
  ustring,
  vector,
  writeMultiRequest,
  writeMultiResponse,
} from '../../wire/index.js';
import type { ACL, MultiOp, MultiResult, Stat } from '../../wire/index.js';
import { CODECS, decodeFrame, loadGolden, partCodecs } from './golden-fixtures.js';
import type { PartCodec } from './golden-fixtures.js';
import { mulberry32 } from '../../src/platform/prng.js';


/** Random values of every jute kind, with the edge values picked often. */
class Gen {
  readonly rand: () => number;
  constructor(seed: number) {
    this.rand = mulberry32(seed);
  }
  pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.rand() * xs.length)];
    if (x === undefined) throw new Error('pick from an empty list');
    return x;
  }
  int(): number {
    if (this.rand() < 0.3) return this.pick([0, 1, -1, 0x7fffffff, -0x80000000]);
    return (Math.floor(this.rand() * 0x100000000) | 0);
  }
  long(): bigint {
    if (this.rand() < 0.3) return this.pick([0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]);
    return BigInt.asIntN(64, (BigInt(Math.floor(this.rand() * 0x100000000)) << 32n) | BigInt(Math.floor(this.rand() * 0x100000000)));
  }
  bool(): boolean {
    return this.rand() < 0.5;
  }
  bytes(): Buffer {
    const n = this.rand() < 0.2 ? 0 : Math.floor(this.rand() * 64);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.rand() * 256);
    return b;
  }
  buf(): Buffer | null {
    return this.rand() < 0.15 ? null : this.bytes();
  }
  str(): string {
    const alphabet = ['a', 'b', 'z', '/', '-', '0', '9', 'é', '日', '本', '\u00ff', ' ', '.'];
    const n = Math.floor(this.rand() * 20);
    let s = '';
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
  nstr(): string | null {
    return this.rand() < 0.15 ? null : this.str();
  }
  arr<T>(item: () => T): T[] {
    const n = Math.floor(this.rand() * 5);
    return Array.from({ length: n }, item);
  }
  acl(): ACL {
    return { perms: this.int(), id: { scheme: this.str(), id: this.str() } };
  }
  acls(): ACL[] | null {
    return this.rand() < 0.1 ? null : this.arr(() => this.acl());
  }
  stat(): Stat {
    return {
      czxid: this.long(), mzxid: this.long(), ctime: this.long(), mtime: this.long(),
      version: this.int(), cversion: this.int(), aversion: this.int(), ephemeralOwner: this.long(),
      dataLength: this.int(), numChildren: this.int(), pzxid: this.long(),
    };
  }
  multiOp(read: boolean): MultiOp {
    if (read) {
      return this.bool()
        ? { type: OpCode.getData, req: { path: this.str(), watch: this.bool() } }
        : { type: OpCode.getChildren, req: { path: this.str(), watch: this.bool() } };
    }
    const create = { path: this.str(), data: this.buf(), acl: this.acls(), flags: this.int() };
    switch (Math.floor(this.rand() * 7)) {
      case 0: return { type: OpCode.create, req: create };
      case 1: return { type: OpCode.create2, req: create };
      case 2: return { type: OpCode.createContainer, req: create };
      case 3: return { type: OpCode.createTTL, req: { ...create, ttl: this.long() } };
      case 4: return { type: OpCode.delete, req: { path: this.str(), version: this.int() } };
      case 5: return { type: OpCode.setData, req: { path: this.str(), data: this.buf(), version: this.int() } };
      default: return { type: OpCode.check, req: { path: this.str(), version: this.int() } };
    }
  }
  multiResult(): MultiResult {
    switch (Math.floor(this.rand() * 8)) {
      case 0: return { type: OpCode.create, path: this.str() };
      case 1: return { type: OpCode.create2, path: this.str(), stat: this.stat() };
      case 2: return { type: OpCode.delete };
      case 3: return { type: OpCode.check };
      case 4: return { type: OpCode.setData, stat: this.stat() };
      case 5: return { type: OpCode.getData, data: this.buf(), stat: this.stat() };
      case 6: return { type: OpCode.getChildren, children: this.arr(() => this.str()) };
      default: return { type: OpCode.error, err: this.int() };
    }
  }
}

/** A random value for each record name in CODECS. */
const GENERATORS: Readonly<Record<string, (g: Gen) => unknown>> = {
  ConnectRequest: (g) => ({ protocolVersion: g.int(), lastZxidSeen: g.long(), timeOut: g.int(), sessionId: g.long(), passwd: g.buf(), readOnly: g.rand() < 0.3 ? null : g.bool() }),
  ConnectResponse: (g) => ({ protocolVersion: g.int(), timeOut: g.int(), sessionId: g.long(), passwd: g.buf(), readOnly: g.rand() < 0.3 ? null : g.bool() }),
  RequestHeader: (g) => ({ xid: g.int(), type: g.int() }),
  ReplyHeader: (g) => ({ xid: g.int(), zxid: g.long(), err: g.int() }),
  WatcherEvent: (g) => ({ type: g.int(), state: g.int(), path: g.str() }),
  AuthPacket: (g) => ({ type: g.int(), scheme: g.str(), auth: g.buf() }),
  CreateRequest: (g) => ({ path: g.str(), data: g.buf(), acl: g.acls(), flags: g.int() }),
  CreateTTLRequest: (g) => ({ path: g.str(), data: g.buf(), acl: g.acls(), flags: g.int(), ttl: g.long() }),
  CreateResponse: (g) => ({ path: g.str() }),
  Create2Response: (g) => ({ path: g.str(), stat: g.stat() }),
  DeleteRequest: (g) => ({ path: g.str(), version: g.int() }),
  ExistsRequest: (g) => ({ path: g.str(), watch: g.bool() }),
  ExistsResponse: (g) => ({ stat: g.stat() }),
  GetDataRequest: (g) => ({ path: g.str(), watch: g.bool() }),
  GetDataResponse: (g) => ({ data: g.buf(), stat: g.stat() }),
  SetDataRequest: (g) => ({ path: g.str(), data: g.buf(), version: g.int() }),
  SetDataResponse: (g) => ({ stat: g.stat() }),
  GetACLRequest: (g) => ({ path: g.str() }),
  GetACLResponse: (g) => ({ acl: g.arr(() => g.acl()), stat: g.stat() }),
  SetACLRequest: (g) => ({ path: g.str(), acl: g.acls(), version: g.int() }),
  SetACLResponse: (g) => ({ stat: g.stat() }),
  GetChildrenRequest: (g) => ({ path: g.str(), watch: g.bool() }),
  GetChildrenResponse: (g) => ({ children: g.arr(() => g.str()) }),
  GetChildren2Request: (g) => ({ path: g.str(), watch: g.bool() }),
  GetChildren2Response: (g) => ({ children: g.arr(() => g.str()), stat: g.stat() }),
  SyncRequest: (g) => ({ path: g.str() }),
  SyncResponse: (g) => ({ path: g.str() }),
  ErrorResponse: (g) => ({ err: g.int() }),
  CheckWatchesRequest: (g) => ({ path: g.str(), type: g.int() }),
  RemoveWatchesRequest: (g) => ({ path: g.str(), type: g.int() }),
  DeleteContainerRequest: (g) => ({ path: g.str() }),
  GetEphemeralsRequest: (g) => ({ prefixPath: g.str() }),
  GetEphemeralsResponse: (g) => ({ ephemerals: g.arr(() => g.str()) }),
  GetAllChildrenNumberRequest: (g) => ({ path: g.str() }),
  GetAllChildrenNumberResponse: (g) => ({ totalNumber: g.int() }),
  SetWatches: (g) => ({ relativeZxid: g.long(), dataWatches: g.arr(() => g.str()), existWatches: g.arr(() => g.str()), childWatches: g.arr(() => g.str()) }),
  SetWatches2: (g) => ({
    relativeZxid: g.long(), dataWatches: g.arr(() => g.str()), existWatches: g.arr(() => g.str()), childWatches: g.arr(() => g.str()),
    persistentWatches: g.arr(() => g.str()), persistentRecursiveWatches: g.arr(() => g.str()),
  }),
  AddWatchRequest: (g) => ({ path: g.str(), mode: g.int() }),
  WhoAmIResponse: (g) => ({ clientInfo: g.arr(() => ({ authScheme: g.str(), user: g.str() })) }),
  GetSASLRequest: (g) => ({ token: g.buf() }),
  SetSASLResponse: (g) => ({ token: g.buf() }),
  ReconfigRequest: (g) => ({ joiningServers: g.nstr(), leavingServers: g.nstr(), newMembers: g.nstr(), curConfigId: g.long() }),
  MultiRequest: (g) => {
    const read = g.bool();
    return g.arr(() => g.multiOp(read));
  },
  MultiResponse: (g) => g.arr(() => g.multiResult()),
};

function encodeWith(c: PartCodec, v: unknown): Buffer {
  const w = new JuteWriter(16);
  c.write(w, v);
  return w.toBuffer();
}

function decodeWith(c: PartCodec, b: Buffer): unknown {
  const r = new JuteReader(b);
  const v = c.read(r);
  r.expectEnd('record');
  return v;
}

/** Runs fn and returns the JuteError code, 'ok', or rethrows anything that is not a JuteError. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof JuteError) return e.code;
    throw e;
  }
}

test('every record in CODECS has a generator (so none escapes the property test)', (t) => {
  t.deepEqual(Object.keys(CODECS).filter((k) => GENERATORS[k] === undefined), []);
});

for (const [name, c] of Object.entries(CODECS)) {
  test(`property round-trip: ${name} (300 seeded values)`, (t) => {
    const gen = GENERATORS[name];
    if (gen === undefined) throw new Error(`no generator for ${name}`);
    for (let seed = 1; seed <= 300; seed++) {
      const v = gen(new Gen(seed * 7919 + name.length));
      const bytes = encodeWith(c, v);
      const back = decodeWith(c, bytes);
      t.deepEqual(back, v, `${name} seed ${seed}`);
      t.is(encodeWith(c, back).toString('hex'), bytes.toString('hex'), `${name} seed ${seed}: re-encode`);
    }
  });
}

test('garbage: random bytes into every record decoder give a value or a JuteError, nothing else', (t) => {
  const rand = mulberry32(42);
  const seen = new Set<string>();
  for (const [name, c] of Object.entries(CODECS)) {
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(rand() * 120);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = rand() < 0.3 ? 0xff : Math.floor(rand() * 256);
      const code = outcome(() => decodeWith(c, b));
      seen.add(code);
      t.true(['ok', 'JUTE_UNDERFLOW', 'JUTE_BAD_LENGTH', 'JUTE_TRAILING_BYTES', 'JUTE_BAD_VALUE'].includes(code), `${name}: ${code}`);
    }
  }
  t.true(seen.has('JUTE_UNDERFLOW') && seen.has('JUTE_BAD_LENGTH'));
});

test('garbage: huge declared string/buffer/vector lengths fail before allocating', (t) => {
  const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  t.is(outcome(() => new JuteReader(huge).readUString()), 'JUTE_BAD_LENGTH');
  t.is(outcome(() => new JuteReader(huge).readBuffer()), 'JUTE_BAD_LENGTH');
  t.is(outcome(() => new JuteReader(huge).readVectorLength()), 'JUTE_BAD_LENGTH');
  t.is(outcome(() => vector(path).read(new JuteReader(huge))), 'JUTE_BAD_LENGTH');
  // A length that fits the remaining bytes but is over jute.maxbuffer is refused too.
  const big = Buffer.alloc(JUTE_MAX_BUFFER_DEFAULT + 5);
  big.writeInt32BE(JUTE_MAX_BUFFER_DEFAULT + 1, 0);
  t.is(outcome(() => new JuteReader(big).readBuffer()), 'JUTE_BAD_LENGTH');
  // ...unless the reader was given a larger limit.
  t.is(new JuteReader(big, 0, big.length, JUTE_MAX_BUFFER_DEFAULT + 1).readBuffer()?.length, JUTE_MAX_BUFFER_DEFAULT + 1);
  // Lengths below -1 are invalid, not null.
  const minus2 = Buffer.from([0xff, 0xff, 0xff, 0xfe]);
  t.is(outcome(() => new JuteReader(minus2).readUString()), 'JUTE_BAD_LENGTH');
  // A vector count of a million with 8 bytes left.
  const manyItems = Buffer.from([0x00, 0x0f, 0x42, 0x40, 0, 0, 0, 0, 0, 0, 0, 0]);
  const children = CODECS.GetChildrenResponse;
  if (children === undefined) throw new Error('no GetChildrenResponse codec');
  t.is(outcome(() => children.read(new JuteReader(manyItems))), 'JUTE_BAD_LENGTH');
});

test('garbage: a multi whose header announces a disallowed op type is JUTE_BAD_VALUE', (t) => {
  const w = new JuteWriter();
  w.writeInt(OpCode.getACL);
  w.writeBool(false);
  w.writeInt(-1);
  t.is(outcome(() => readMultiRequest(new JuteReader(w.toBuffer()))), 'JUTE_BAD_VALUE');
  const res = new JuteWriter();
  res.writeInt(77);
  res.writeBool(false);
  res.writeInt(0);
  t.is(outcome(() => readMultiResponse(new JuteReader(res.toBuffer()))), 'JUTE_BAD_VALUE');
  // No end marker: the reader runs out of bytes rather than looping.
  const open = new JuteWriter();
  writeMultiRequest(open, [{ type: OpCode.delete, req: { path: '/a', version: -1 } }]);
  const cut = open.toBuffer().subarray(0, open.length - 9);
  t.is(outcome(() => readMultiRequest(new JuteReader(cut))), 'JUTE_UNDERFLOW');
});

test('truncation: every proper prefix of every golden frame is a JuteError (except the optional readOnly byte)', (t) => {
  let checked = 0;
  for (const f of loadGolden()) {
    const full = Buffer.from(f.hex, 'hex');
    for (let n = 0; n < full.length; n++) {
      const prefix = { ...f, hex: full.subarray(0, n).toString('hex') };
      const code = outcome(() => decodeFrame(prefix));
      checked++;
      if (code === 'ok') {
        // ConnectRequest/ConnectResponse without their last byte are the no-readOnly form.
        t.true(f.record.startsWith('Connect') && n === full.length - 1, `${f.name}: prefix of ${n} bytes decoded`);
      } else {
        t.true(code === 'JUTE_UNDERFLOW' || code === 'JUTE_BAD_LENGTH', `${f.name} cut at ${n}: ${code}`);
      }
    }
  }
  t.true(checked > 1000);
});

test('trailing bytes after a record are JUTE_TRAILING_BYTES', (t) => {
  const codec = CODECS.ReplyHeader;
  if (codec === undefined) throw new Error('no ReplyHeader codec');
  t.is(outcome(() => decodeWith(codec, Buffer.alloc(17))), 'JUTE_TRAILING_BYTES');
  t.is(partCodecs({ name: 'x', direction: 's2c', record: 'ReplyHeader', hex: '' }).length, 1);
});

test('-1 lengths: null buffer, null string, null vector; list() and path read them as [] and ""', (t) => {
  const minus1 = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  t.is(buffer.read(new JuteReader(minus1)), null);
  t.is(ustring.read(new JuteReader(minus1)), null);
  t.is(vector(path).read(new JuteReader(minus1)), null);
  t.deepEqual(list(path).read(new JuteReader(minus1)), []);
  t.is(path.read(new JuteReader(minus1)), '');
  const w = new JuteWriter();
  buffer.write(w, null);
  ustring.write(w, null);
  vector(path).write(w, null);
  t.is(w.toBuffer().toString('hex'), 'ffffffff'.repeat(3));
  // Empty is not null: length 0.
  const e = new JuteWriter();
  buffer.write(e, Buffer.alloc(0));
  ustring.write(e, '');
  t.is(e.toBuffer().toString('hex'), '00000000'.repeat(2));
});

test('writers refuse values that do not fit the jute type', (t) => {
  const w = new JuteWriter();
  for (const v of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) {
    t.is(outcome(() => w.writeInt(v)), 'JUTE_BAD_VALUE', `int ${v}`);
  }
  t.is(outcome(() => w.writeLong(2n ** 63n)), 'JUTE_BAD_VALUE');
  t.is(outcome(() => w.writeLong(-(2n ** 63n) - 1n)), 'JUTE_BAD_VALUE');
  t.is(w.length, 0);
});

test('multi round-trip keeps op order and the end marker', (t) => {
  const ops: MultiOp[] = [
    { type: OpCode.create, req: { path: '/a', data: null, acl: [], flags: 0 } },
    { type: OpCode.check, req: { path: '/a', version: 3 } },
  ];
  const w = new JuteWriter();
  writeMultiRequest(w, ops);
  const hex = w.toBuffer().toString('hex');
  t.true(hex.endsWith('ffffffff01ffffffff'));
  t.deepEqual(readMultiRequest(new JuteReader(w.toBuffer())), ops);
  const results: MultiResult[] = [{ type: OpCode.error, err: -101 }];
  const rw = new JuteWriter();
  writeMultiResponse(rw, results);
  t.is(rw.toBuffer().toString('hex'), 'ffffffff00ffffff9bffffff9b' + 'ffffffff01ffffffff');
});

// writeUString copies ASCII strings of up to 128 chars itself and hands the rest to Buffer:
// both paths must give exactly Buffer's UTF-8 bytes.
test('writeUString: ASCII fast path and UTF-8 fallback encode the same bytes as Buffer', (t) => {
  const samples = ['', '/', '/a/b/c', 'x'.repeat(128), 'y'.repeat(129), '/é', 'ascii-then-ü', '日本語/ノード', '\u007f', '\u0080', '😀/emoji', `${'z'.repeat(127)}é`];
  for (const s of samples) {
    const w = new JuteWriter(1);
    w.writeInt(7);
    w.writeUString(s);
    w.writeInt(9);
    const bytes = Buffer.from(s, 'utf8');
    const expected = Buffer.alloc(12 + bytes.length);
    expected.writeInt32BE(7, 0);
    expected.writeInt32BE(bytes.length, 4);
    bytes.copy(expected, 8);
    expected.writeInt32BE(9, 8 + bytes.length);
    t.deepEqual(w.toBuffer(), expected, JSON.stringify(s));
    t.is(new JuteReader(w.toBuffer(), 4).readUString(), s);
  }
});
