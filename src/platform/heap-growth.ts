// V8 lets the old generation grow to about twice the live data between full collections,
// so a large heap costs about twice its size in RSS. Capping each step (V8's
// --heap-growing-percent) trades CPU for memory. The server sets a cap once it serves
// (src/cli/main.ts); capHeapGrowth is the stricter one of --low-memory, switched on only once
// the heap holds more than `fromBytes`, checked once a second. V8 reads the flag when a full
// collection sets the next limit, and the limit in force was set under the previous cap
// (letting the heap grow that much once more), so switching the stricter cap on also runs one
// full collection: a single pause (~0.1 s at 256 MiB) instead of hundreds of MiB.
import { nodeV8, nodeVm } from './builtins.js';
import type { Logger } from './log.js';

export interface HeapGrowthCapOptions {
  /** Largest growth of the heap between full collections, in percent of the live size. */
  percent: number;
  /** The cap below `fromBytes`; 0 (the default) is V8's own growth heuristics. */
  basePercent?: number;
  /** The cap applies while the used heap is above this. */
  fromBytes: number;
  log: Logger;
  checkEveryMs?: number;
}

/** Starts the check; returns a function that stops it. */
export function capHeapGrowth(opts: HeapGrowthCapOptions): () => void {
  const v8 = nodeV8();
  let capped = false;
  const apply = (): void => {
    // Off again only below half the threshold, so a heap hovering near it does not flap.
    const used = v8.getHeapStatistics().used_heap_size;
    const large = capped ? used > opts.fromBytes / 2 : used > opts.fromBytes;
    if (large === capped) return;
    capped = large;
    setHeapGrowingPercent(large ? opts.percent : (opts.basePercent ?? 0));
    if (large) fullCollection();
    opts.log.info({ heapGrowingPercent: large ? opts.percent : (opts.basePercent ?? 'V8 default'), usedHeapBytes: v8.getHeapStatistics().used_heap_size }, 'heap growth cap changed');
  };
  apply();
  const timer = setInterval(apply, opts.checkEveryMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** From the next full collection on, the old generation grows at most `percent` % past what is live; 0 = V8's heuristics. */
export function setHeapGrowingPercent(percent: number): void {
  nodeV8().setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/** A full collection on demand: gc() from a context created with --expose-gc in effect. */
function fullCollection(): void {
  nodeV8().setFlagsFromString('--expose-gc');
  const gc = nodeVm().runInNewContext('gc') as unknown;
  if (typeof gc === 'function') (gc as () => void)();
}
