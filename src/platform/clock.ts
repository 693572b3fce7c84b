// Time is injected: the pure core takes numbers, the shells take a Clock.
export interface Clock {
  /** Wall-clock ms since the epoch: txn times (ctime/mtime). */
  nowMs(): number;
  /** Monotonic ms: timeouts, latencies, session expiry. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};
