import test from 'ava';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { capHeapGrowth } from '../../src/platform/heap-growth.js';

function capturingLogger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

test('the cap switches on once the heap is above the threshold, with one full collection', (t) => {
  const { log, lines } = capturingLogger();
  const stop = capHeapGrowth({ percent: 50, fromBytes: 1, log });
  stop();
  const changes = lines.filter((l) => l['msg'] === 'heap growth cap changed');
  t.is(changes.length, 1);
  t.is(changes[0]?.['heapGrowingPercent'], 50);
  t.true(typeof changes[0]?.['usedHeapBytes'] === 'number' && (changes[0]['usedHeapBytes'] as number) > 0);
});

test('a heap below the threshold keeps V8 defaults and logs nothing', (t) => {
  const { log, lines } = capturingLogger();
  const stop = capHeapGrowth({ percent: 50, fromBytes: Number.MAX_SAFE_INTEGER, log });
  stop();
  t.deepEqual(lines.filter((l) => l['msg'] === 'heap growth cap changed'), []);
});
