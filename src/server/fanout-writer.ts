// A helper thread that writes one watch event to many sockets together with the main thread.
// Each write(2) to a loopback or LAN socket costs ~10-15 µs of kernel time (TCP send path,
// waking the reader), so 10,000 watchers of one node took ~130 ms on one thread (bench/README.md,
// watch fan-out).
//
// Both threads take the sockets from one list, CLAIM_FDS at a time through an atomic cursor, so
// whichever runs faster writes more: on a machine whose cores are shared with other work, the
// threads' speeds differ from one fan-out to the next, and the helper may be woken late.
//
// Why this is safe without locks: the main thread hands over socket fds and then waits, in the
// same synchronous call, until the helper has finished. Until then it does not return to the
// event loop, so no socket can be closed and no fd reused under the helper, and nothing else can
// be written to those sockets in between. Only sockets with no output queued anywhere are handed
// over, so the event keeps its place in each connection's output order. Whatever could not be
// written (a full socket buffer, an error) goes back through the socket's usual path.
import * as fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { nodeWorkerThreads } from '../platform/builtins.js';
import type { Logger } from 'pino';

/** Below this many sockets, waking the helper costs more than it saves. */
export const FANOUT_MIN_TARGETS = 512;
/** Sockets per hand-over; bigger fan-outs take several. */
const BATCH_FDS = 16384;
/** Sockets a thread claims at a time: ~0.5 ms of writes, so the threads finish close together. */
const CLAIM_FDS = 32;
/** Events with longer frames (very long paths) go the usual way. */
export const FANOUT_MAX_FRAME = 4096;
/** The helper never takes this long for one batch; if it does, the server cannot go on safely. */
const HELPER_TIMEOUT_MS = 10000;

// Shared layout: int32 control words, then fds, then per-fd results, then the frame.
const CTL_GENERATION = 0;
const CTL_COUNT = 1;
const CTL_FRAME_LENGTH = 2;
const CTL_DONE = 3;
/** Index of the next unclaimed fd of the batch. */
const CTL_CURSOR = 4;
const CTL_WORDS = 5;

// Runs in the helper (plain JavaScript: the bundle is one file, so the helper is given as source).
const HELPER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { sab, batch, maxFrame } = workerData;
const ctl = new Int32Array(sab, 0, ${CTL_WORDS});
const fds = new Int32Array(sab, ${CTL_WORDS * 4}, batch);
const results = new Int32Array(sab, ${CTL_WORDS * 4} + batch * 4, batch);
const frame = Buffer.from(sab, ${CTL_WORDS * 4} + batch * 8, maxFrame);
let seen = 0;
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctl, ${CTL_GENERATION}, seen);
  seen = Atomics.load(ctl, ${CTL_GENERATION});
  const count = ctl[${CTL_COUNT}];
  const bytes = frame.subarray(0, ctl[${CTL_FRAME_LENGTH}]);
  for (let from = Atomics.add(ctl, ${CTL_CURSOR}, ${CLAIM_FDS}); from < count; from = Atomics.add(ctl, ${CTL_CURSOR}, ${CLAIM_FDS})) {
    const to = Math.min(count, from + ${CLAIM_FDS});
    for (let i = from; i < to; i++) {
      try {
        results[i] = fs.writeSync(fds[i], bytes);
      } catch (e) {
        results[i] = e && e.code === 'EAGAIN' ? 0 : -1;
      }
    }
  }
  Atomics.store(ctl, ${CTL_DONE}, seen);
  Atomics.notify(ctl, ${CTL_DONE});
}
`;

export class FanoutWriter {
  private worker: Worker | null = null;
  private ready = false;
  private failed = false;
  private readonly sab = new SharedArrayBuffer(CTL_WORDS * 4 + BATCH_FDS * 8 + FANOUT_MAX_FRAME);
  private readonly ctl = new Int32Array(this.sab, 0, CTL_WORDS);
  private readonly fds = new Int32Array(this.sab, CTL_WORDS * 4, BATCH_FDS);
  private readonly results = new Int32Array(this.sab, CTL_WORDS * 4 + BATCH_FDS * 4, BATCH_FDS);
  private readonly frame = new Uint8Array(this.sab, CTL_WORDS * 4 + BATCH_FDS * 8, FANOUT_MAX_FRAME);
  private generation = 0;

  constructor(private readonly log: Logger) {}

  /** Starts the helper (once); until it is up, available is false and events go the usual way. */
  start(): void {
    if (this.worker !== null || this.failed) return;
    const worker = new (nodeWorkerThreads().Worker)(HELPER_SOURCE, { eval: true, workerData: { sab: this.sab, batch: BATCH_FDS, maxFrame: FANOUT_MAX_FRAME } });
    worker.unref();
    worker.once('message', () => {
      this.ready = true;
      this.log.info('watch fan-out helper thread started');
    });
    worker.once('error', (err) => this.disable(`it failed: ${err.message}`));
    worker.once('exit', (code) => this.disable(`it exited with code ${code}`));
    this.worker = worker;
  }

  get available(): boolean {
    return this.ready && !this.failed;
  }

  /** How many fds one hand-over takes. */
  get batchSize(): number {
    return BATCH_FDS;
  }

  /** Where to put the fds of the next hand-over. */
  get fdSlots(): Int32Array {
    return this.fds;
  }

  /**
   * Writes frame to the sockets fdSlots[0, count) from both threads and returns, once the helper
   * is done too, the bytes written per fd (0 when the socket was full, -1 on an error).
   */
  writeAll(count: number, frame: Buffer): Int32Array {
    const ctl = this.ctl;
    this.frame.set(frame);
    ctl[CTL_COUNT] = count;
    ctl[CTL_FRAME_LENGTH] = frame.length;
    Atomics.store(ctl, CTL_CURSOR, 0);
    const generation = ++this.generation;
    Atomics.store(ctl, CTL_GENERATION, generation);
    Atomics.notify(ctl, CTL_GENERATION);
    const fds = this.fds;
    const results = this.results;
    for (let from = Atomics.add(ctl, CTL_CURSOR, CLAIM_FDS); from < count; from = Atomics.add(ctl, CTL_CURSOR, CLAIM_FDS)) {
      const to = Math.min(count, from + CLAIM_FDS);
      for (let i = from; i < to; i++) results[i] = writeFd(fds[i] as number, frame);
    }
    const started = Date.now();
    while (Atomics.load(ctl, CTL_DONE) !== generation) {
      Atomics.wait(ctl, CTL_DONE, Atomics.load(ctl, CTL_DONE), 1000);
      if (Atomics.load(ctl, CTL_DONE) !== generation && Date.now() - started > HELPER_TIMEOUT_MS) {
        // Going on could let the helper write into a socket whose fd was closed and reused by
        // another client; stopping is safe (every acknowledged write is on disk).
        this.log.fatal({ waitedMs: Date.now() - started }, 'the watch fan-out helper thread stopped answering; exiting rather than risk writing to the wrong client');
        process.exit(1);
      }
    }
    return results;
  }

  private disable(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.ready = false;
    this.log.warn(`watch fan-out helper thread stopped (${why}); events are written from the main thread`);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.failed = true;
    this.ready = false;
    if (worker !== null) await worker.terminate();
  }
}

/** One write(2) of frame to fd: the bytes written, 0 when the socket buffer is full, -1 on an error. */
function writeFd(fd: number, frame: Buffer): number {
  try {
    return fs.writeSync(fd, frame);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EAGAIN' ? 0 : -1;
  }
}
