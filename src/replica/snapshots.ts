// Tree snapshots as both replicas take and load them: written in pieces while clients go on
// (the tree copies a node before changing it), loaded before the log is replayed.
import type { Logger } from 'pino';
import { JuteWriter } from '../../wire/index.js';
import type { DataTree } from '../core/tree.js';
import { decodeSnapshot, encodeNodes, encodeSnapshotEnd, encodeSnapshotHeader } from '../core/snapshot-codec.js';
import type { SnapshotMeta, SnapshotStore } from '../storage/snapshot.js';

const SNAPSHOT_CHUNK_NODES = 20000;

/** Loads the newest valid snapshot into a fresh tree; null when there is none. */
export async function loadNewestSnapshot(snapshots: SnapshotStore, tree: DataTree, log: Logger): Promise<SnapshotMeta | null> {
  const latest = await snapshots.loadLatest();
  if (latest === null) return null;
  loadSnapshotData(tree, latest.data);
  log.info({ file: latest.file, zxid: tree.lastZxid, nodes: tree.nodeCount }, 'loaded snapshot');
  return latest.meta;
}

export function loadSnapshotData(tree: DataTree, data: Buffer): void {
  const snap = decodeSnapshot(data);
  tree.load(snap.zxid, snap.nodes, snap.sessions);
}

/** Writes the tree as of now; returns where it went. `term` is the term of the entry at tree.lastZxid. */
export async function saveTreeSnapshot(tree: DataTree, snapshots: SnapshotStore, term: number): Promise<{ file: string; bytes: number; meta: SnapshotMeta }> {
  const frozen = tree.beginSnapshot();
  try {
    const chunks = async function* (): AsyncGenerator<Buffer> {
      yield encodeSnapshotHeader(frozen.zxid, frozen.sessions);
      for (;;) {
        const w = new JuteWriter(1 << 20);
        if (encodeNodes(w, frozen.view, SNAPSHOT_CHUNK_NODES) === 0) break;
        yield w.toBuffer();
        await new Promise<void>((r) => setImmediate(r));
      }
      yield encodeSnapshotEnd();
    };
    const meta = { index: frozen.zxid, term };
    const saved = await snapshots.save(meta, chunks());
    return { ...saved, meta };
  } finally {
    frozen.end();
  }
}

/** ZooKeeper snapshots at a random point in [snapCount/2+1, snapCount] so servers don't all do it at once. */
export function snapshotThreshold(snapCount: number, random: () => number): number {
  const half = Math.floor(snapCount / 2);
  return half + 1 + Math.floor(random() * Math.max(1, snapCount - half));
}
