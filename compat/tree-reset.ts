// Empties a server shared by several differential scenarios (the ensemble differential test
// starts each ensemble once per file): every znode except the four system nodes is deleted
// through a client, then the result is checked, so one scenario cannot leak into the next.
//
// Deleting is not enough to make two servers alike again: a parent's cversion counts every
// child create and delete (ZOOKEEPER.md §4.1) and the sequence suffix counts every create
// (§4.2), so a write that succeeded on one side only leaves the system nodes' counters apart
// for ever. equalizeCounters() brings the lagging side level with create+delete pairs, after
// the scenario that caused it has already been reported as a mismatch.
import crypto from 'node:crypto';
import { RawClient } from './raw-client.js';
import {
  AuthPacket,
  CreateRequest,
  DeleteRequest,
  ErrorCode,
  GetChildren2Request,
  GetChildren2Response,
  OpCode,
  Xid,
} from '../wire/index.js';

/** A superuser bypasses every ACL (ZOOKEEPER.md §7), which a scenario may have set anywhere. */
const SUPER_USER = 'super';
const SUPER_PASSWORD = 'zooraft-tree-reset';

/** The `DigestAuthenticationProvider.superDigest` zoo.cfg value both servers must be given. */
export function superDigest(): string {
  const hash = crypto.createHash('sha1').update(`${SUPER_USER}:${SUPER_PASSWORD}`, 'utf8').digest('base64');
  return `${SUPER_USER}:${hash}`;
}

/** The tree of a fresh server: the system nodes and their children (sorted). */
export const EMPTY_TREE: Readonly<Record<string, readonly string[]>> = {
  '/': ['zookeeper'],
  '/zookeeper': ['config', 'quota'],
  '/zookeeper/config': [],
  '/zookeeper/quota': [],
};
const SYSTEM_PATHS = Object.keys(EMPTY_TREE);

/** Bounds the walk, so a server that keeps answering with new children cannot loop us forever. */
const RESET_NODES_MAX = 10000;
const PAD_NAME = 'tree-reset-pad';

export interface TreeState {
  /** Nodes the reset deleted. */
  deleted: number;
  /** Children of each system node, sorted. */
  children: Record<string, string[]>;
  /** cversion of each system node. */
  cversions: Record<string, number>;
}

export interface Endpoint {
  host: string;
  port: number;
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** A session authenticated as the superuser; closed by the caller. */
async function adminClient(at: Endpoint): Promise<RawClient> {
  const c = await RawClient.connect({ host: at.host, port: at.port, timeOutMs: 30000 });
  const reply = await c.request(OpCode.auth, (w) => AuthPacket.write(w, { type: 0, scheme: 'digest', auth: Buffer.from(`${SUPER_USER}:${SUPER_PASSWORD}`, 'utf8') }), Xid.Auth);
  if (reply.err !== 0) {
    await c.close().catch(() => undefined);
    throw new Error(`tree reset: superuser auth refused (${reply.err}) by ${at.host}:${at.port}; was superDigest configured?`);
  }
  return c;
}

async function children2(c: RawClient, path: string): Promise<{ err: number; children: string[]; cversion: number }> {
  const r = await c.call(OpCode.getChildren2, GetChildren2Request, { path, watch: false }, GetChildren2Response);
  return { err: r.err, children: [...(r.res?.children ?? [])].sort(), cversion: r.res?.stat.cversion ?? 0 };
}

/** Every non-system node under `path`, children before their parent. */
async function collect(c: RawClient, path: string, out: string[]): Promise<void> {
  const r = await children2(c, path);
  // NoNode: removed meanwhile (an expiring session's ephemeral, a container sweep).
  if (r.err === ErrorCode.NoNode) return;
  if (r.err !== 0) throw new Error(`tree reset: getChildren ${path} failed with ${r.err}`);
  for (const name of r.children) {
    const p = childPath(path, name);
    await collect(c, p, out);
    if (!SYSTEM_PATHS.includes(p)) out.push(p);
    if (out.length > RESET_NODES_MAX) throw new Error(`tree reset: more than ${RESET_NODES_MAX} nodes`);
  }
}

async function readState(c: RawClient, deleted: number): Promise<TreeState> {
  const state: TreeState = { deleted, children: {}, cversions: {} };
  for (const p of SYSTEM_PATHS) {
    const r = await children2(c, p);
    if (r.err !== 0) throw new Error(`tree reset: getChildren2 ${p} failed with ${r.err}`);
    state.children[p] = r.children;
    state.cversions[p] = r.cversion;
  }
  return state;
}

/**
 * Deletes every non-system node (deepest first), then checks that only the system nodes are
 * left. Throws with the leftover tree if not. Returns the system nodes' children and cversions.
 */
export async function resetTree(at: Endpoint): Promise<TreeState> {
  const c = await adminClient(at);
  try {
    const doomed: string[] = [];
    await collect(c, '/', doomed);
    for (const p of doomed) {
      const r = await c.request(OpCode.delete, (w) => DeleteRequest.write(w, { path: p, version: -1 }));
      if (r.err !== 0 && r.err !== ErrorCode.NoNode) throw new Error(`tree reset: delete ${p} failed with ${r.err}`);
    }
    const state = await readState(c, doomed.length);
    if (JSON.stringify(state.children) !== JSON.stringify(EMPTY_TREE)) {
      throw new Error(`tree reset: ${at.host}:${at.port} is not empty after deleting ${doomed.length} nodes: ${JSON.stringify(state.children)}`);
    }
    return state;
  } finally {
    await c.close().catch(() => undefined);
  }
}

/** Raises `path`'s cversion by 2·rounds (a child created and deleted per round). */
async function pad(c: RawClient, path: string, rounds: number): Promise<void> {
  const p = childPath(path, PAD_NAME);
  for (let i = 0; i < rounds; i++) {
    const made = await c.request(OpCode.create, (w) => CreateRequest.write(w, { path: p, data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 }));
    if (made.err !== 0) throw new Error(`tree reset: pad create ${p} failed with ${made.err}`);
    const gone = await c.request(OpCode.delete, (w) => DeleteRequest.write(w, { path: p, version: -1 }));
    if (gone.err !== 0) throw new Error(`tree reset: pad delete ${p} failed with ${gone.err}`);
  }
}

/**
 * Brings the system nodes' cversions of two emptied servers level (see the file comment).
 * Returns what was padded ('' when nothing was needed); throws if they still differ.
 */
export async function equalizeCounters(a: Endpoint, stateA: TreeState, b: Endpoint, stateB: TreeState): Promise<string> {
  const padded: string[] = [];
  for (const p of SYSTEM_PATHS) {
    const diff = (stateA.cversions[p] ?? 0) - (stateB.cversions[p] ?? 0);
    if (diff === 0) continue;
    // With the same children on both sides the difference counts whole creates: always even.
    if (diff % 2 !== 0) throw new Error(`tree reset: cversion of ${p} differs by an odd ${diff}`);
    const lagging = diff > 0 ? b : a;
    const c = await adminClient(lagging);
    try {
      await pad(c, p, Math.abs(diff) / 2);
      const after = await children2(c, p);
      const target = Math.max(stateA.cversions[p] ?? 0, stateB.cversions[p] ?? 0);
      if (after.cversion !== target) throw new Error(`tree reset: padding ${p} reached cversion ${after.cversion}, not ${target}`);
    } finally {
      await c.close().catch(() => undefined);
    }
    padded.push(`${p} on ${lagging.host}:${lagging.port} by ${Math.abs(diff)}`);
  }
  return padded.join(', ');
}
