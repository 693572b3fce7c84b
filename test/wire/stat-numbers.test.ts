// The server's number-based Stat encoder must give exactly the bytes of the jute Stat record.
import test from 'ava';
import { JuteWriter, Stat, writeStatNumbers } from '../../wire/index.js';

test('writeStatNumbers matches Stat.encode, including negative and large values', (t) => {
  const cases = [
    { czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: -1, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 1, pzxid: 0 },
    { czxid: 2 ** 40 + 7, mzxid: 2 ** 52, ctime: 1_795_308_921_145, mtime: 1_795_308_999_999, version: 7, cversion: 2 ** 31 - 1, aversion: -1, ephemeralOwner: -0x7f00000000000001n, dataLength: 100, numChildren: 3, pzxid: Number.MAX_SAFE_INTEGER },
    { czxid: -1, mzxid: -(2 ** 40), ctime: -5, mtime: 1, version: -2, cversion: 0, aversion: 0, ephemeralOwner: 0x0100000000000abcn, dataLength: 0, numChildren: 0, pzxid: 4294967296 },
  ];
  for (const s of cases) {
    const w = new JuteWriter(8);
    writeStatNumbers(w, s);
    const expected = Stat.encode({ ...s, czxid: BigInt(s.czxid), mzxid: BigInt(s.mzxid), ctime: BigInt(s.ctime), mtime: BigInt(s.mtime), pzxid: BigInt(s.pzxid) });
    t.deepEqual(w.toBuffer(), expected);
  }
  t.throws(() => new JuteWriter().writeLongNumber(2 ** 60), { code: 'JUTE_BAD_VALUE' });
});
