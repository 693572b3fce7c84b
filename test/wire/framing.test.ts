// FrameDecoder: frames must come out identical however the bytes are chunked (byte by byte,
// random splits, many frames per chunk), and a bad length must fail before any buffering.
import test from 'ava';
import { FrameDecoder, JuteError, frame } from '../../wire/index.js';
import { mulberry32 } from '../../src/platform/prng.js';


function randomBodies(rand: () => number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    // Mostly small frames, some empty, a few a few KiB long.
    const size = rand() < 0.1 ? 0 : rand() < 0.1 ? Math.floor(rand() * 5000) : Math.floor(rand() * 40);
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j++) b[j] = Math.floor(rand() * 256);
    out.push(b);
  }
  return out;
}

/** Feeds the chunks and drains every complete frame after each push. */
function decodeAll(decoder: FrameDecoder, chunks: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    decoder.push(c);
    for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(Buffer.from(f));
  }
  return out;
}

function hexes(bufs: readonly Buffer[]): string[] {
  return bufs.map((b) => b.toString('hex'));
}

test('byte by byte: every frame comes out once, in order, with its exact bytes', (t) => {
  const bodies = randomBodies(mulberry32(1), 30);
  const stream = Buffer.concat(bodies.map((b) => frame(b)));
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  const decoder = new FrameDecoder(1 << 20);
  t.deepEqual(hexes(decodeAll(decoder, chunks)), hexes(bodies));
  t.is(decoder.bufferedBytes, 0);
});

test('random splits over many seeds give the same frames', (t) => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = mulberry32(seed);
    const bodies = randomBodies(rand, 1 + Math.floor(rand() * 20));
    const stream = Buffer.concat(bodies.map((b) => frame(b)));
    const chunks: Buffer[] = [];
    let at = 0;
    while (at < stream.length) {
      const n = 1 + Math.floor(rand() * (rand() < 0.5 ? 7 : 300));
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    const decoder = new FrameDecoder(1 << 20);
    const got = decodeAll(decoder, chunks);
    if (hexes(got).join() !== hexes(bodies).join()) {
      t.fail(`seed ${seed}: frames differ`);
      return;
    }
    t.is(decoder.bufferedBytes, 0, `seed ${seed}: nothing left over`);
  }
});

test('many frames in one chunk, and a partial tail kept for the next push', (t) => {
  const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello')];
  const stream = Buffer.concat([...bodies.map((b) => frame(b)), frame(Buffer.from('tail')).subarray(0, 6)]);
  const decoder = new FrameDecoder(100);
  t.deepEqual(hexes(decodeAll(decoder, [stream])), hexes(bodies));
  t.is(decoder.bufferedBytes, 6);
  decoder.push(Buffer.from('il'));
  t.is(decoder.next()?.toString(), 'tail');
  t.is(decoder.next(), null);
});

test('fewer than 4 bytes: no frame, no error', (t) => {
  const decoder = new FrameDecoder(100);
  decoder.push(Buffer.from([0, 0, 0]));
  t.is(decoder.next(), null);
  t.is(decoder.peekInt(), null);
});

test('a frame exactly at the limit is accepted; one byte more is FRAME_TOO_LARGE before buffering', (t) => {
  const limit = 1000;
  const ok = new FrameDecoder(limit);
  ok.push(frame(Buffer.alloc(limit, 7)));
  t.is(ok.next()?.length, limit);

  const over = new FrameDecoder(limit);
  const head = Buffer.alloc(4);
  head.writeInt32BE(limit + 1, 0);
  over.push(head);
  // Only the 4 length bytes arrived: the decoder must refuse now, not wait for the body.
  const err = t.throws(() => over.next(), { instanceOf: JuteError });
  t.is(err?.code, 'FRAME_TOO_LARGE');
  t.is(over.bufferedBytes, 4);
});

test('a huge declared length (2 GiB - 1) fails at once with FRAME_TOO_LARGE', (t) => {
  const decoder = new FrameDecoder(0xfffff);
  decoder.push(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
  const err = t.throws(() => decoder.next(), { instanceOf: JuteError });
  t.is(err?.code, 'FRAME_TOO_LARGE');
});

test('a negative length is FRAME_BAD_LENGTH', (t) => {
  for (const len of [-1, -2, -0x80000000]) {
    const decoder = new FrameDecoder(1000);
    const head = Buffer.alloc(4);
    head.writeInt32BE(len, 0);
    decoder.push(head);
    const err = t.throws(() => decoder.next(), { instanceOf: JuteError });
    t.is(err?.code, 'FRAME_BAD_LENGTH', `length ${len}`);
  }
});

test('four-letter words: peekInt reads the first 4 bytes without consuming them', (t) => {
  const decoder = new FrameDecoder(1000);
  decoder.push(Buffer.from('ru'));
  t.is(decoder.peekInt(), null);
  decoder.push(Buffer.from('ok'));
  t.is(decoder.peekInt(), 0x72756f6b);
  t.is(decoder.bufferedBytes, 4);
  t.is(decoder.takeAll().toString(), 'ruok');
  t.is(decoder.bufferedBytes, 0);
});

test('frame() prefixes the big-endian body length', (t) => {
  t.is(frame(Buffer.from('abc')).toString('hex'), '00000003616263');
  t.is(frame(Buffer.alloc(0)).toString('hex'), '00000000');
});
