// Seeded randomness: the pure parts of zooraft never call Math.random, so a seed replays a
// run exactly (tests, the future Raft simulator). mulberry32: small, fast, 32-bit state.

/** Uniform numbers in [0, 1) from a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
