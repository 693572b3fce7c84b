// Ensemble differential test: the scenarios of compat/differential-scenarios.ts, each run
// against a FOLLOWER of a real 3-member ZooKeeper 3.8 ensemble (QuorumPeerMain) and against a
// follower of a 3-member zooraft ensemble. Every client of a scenario connects to that one
// follower, so each write takes the follower -> leader forwarding path and each read, watch
// and sync is served by the follower. Replies must match step by step, under the same
// normalization and the same ALLOWED_DIFFERENCES as the standalone differential test.
//
// All scenarios apply: none needs a fresh process. To stay within the CI budget, each
// ensemble is started once for the file (both in parallel) and shared; before each scenario
// both trees are emptied through a client and checked empty (compat/tree-reset.ts), and the
// scenario's sessions are ended with closeSession afterwards. What a fresh server would
// otherwise have given is handled so:
// - zxids are ranked per scenario (compat/differential.ts), so zxids from earlier scenarios
//   only show as pzxids of system nodes, below every zxid of the scenario on both sides;
// - times are 'in-window' from the ensembles' start, not the scenario's: an ensemble stamps
//   /zookeeper/config when a member joins, before any scenario;
// - the system nodes' cversions (and so root sequence numbers) are brought level after a
//   scenario that wrote on one side only (tree-reset's equalizeCounters);
// - the members' quorum, election and client ports, which /zookeeper/config lists, are
//   replaced by names (server id and role), as session ids are replaced by client names.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ZooKeeperEnsemble } from './zookeeper-process.js';
import { ZooraftEnsemble } from '../test/helpers/ensemble.js';
import { connect, runScenario } from './differential.js';
import { create } from './differential-ops.js';
import type { Scenario, StepResult, Target } from './differential.js';
import { SCENARIOS } from './differential-scenarios.js';
import { judge, oracleFailures } from './allowed-differences.js';
import { equalizeCounters, resetTree, superDigest } from './tree-reset.js';

const HOST = '127.0.0.1';
const SIZE = 3;
const MEMBER_IDS = Array.from({ length: SIZE }, (_, i) => i + 1);
/** ZooKeeper's default tickTime on both sides, so session timeouts negotiate alike ([2, 20] ticks). */
const TICK_MS = 2000;
const SHARED_SETTINGS = { '4lw.commands.whitelist': '*', 'DigestAuthenticationProvider.superDigest': superDigest() };
const ZOORAFT_SETTINGS = { ...SHARED_SETTINGS, extendedTypesEnabled: 'true' };
const LEADER_WAIT_MS = 30000;

interface Side {
  readonly name: 'zookeeper' | 'zooraft';
  /** srvr's Mode of a member, null while it serves nobody. */
  modeOf(id: number): Promise<string | null>;
  waitForLeader(timeoutMs: number): Promise<number>;
  clientPort(id: number): number;
  /** Port number -> its name in observations ('server1.quorumPort'). */
  readonly portNames: ReadonlyMap<number, string>;
}

interface Shared {
  zk: ZooKeeperEnsemble;
  zr: ZooraftEnsemble;
  sides: [Side, Side];
  /** Low end of the time window: just before the ensembles started. */
  windowStartMs: bigint;
}

let shared: Shared | null = null;

function portNames(members: ReadonlyArray<{ id: number; clientPort: number; quorumPort: number; electionPort: number }>): Map<number, string> {
  const names = new Map<number, string>();
  for (const m of members) {
    names.set(m.clientPort, `server${m.id}.clientPort`);
    names.set(m.quorumPort, `server${m.id}.quorumPort`);
    names.set(m.electionPort, `server${m.id}.electionPort`);
  }
  return names;
}

const ZOORAFT_START_ATTEMPTS_MAX = 3;

/** Free ports are picked before they are bound: another starter may take one meanwhile. */
async function startZooraft(): Promise<ZooraftEnsemble> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ZooraftEnsemble.start({ size: SIZE, tickTimeMs: TICK_MS, settings: ZOORAFT_SETTINGS });
    } catch (e) {
      if (attempt >= ZOORAFT_START_ATTEMPTS_MAX || !/EADDRINUSE|already in use/i.test(String(e))) throw e;
    }
  }
}

test.before(async () => {
  const windowStartMs = BigInt(Date.now());
  // In parallel: the JVMs' start-up dominates, and zooraft's fits inside it.
  const [zk, zr] = await Promise.allSettled([
    ZooKeeperEnsemble.start({ size: SIZE, extendedTypes: true, tickTimeMs: TICK_MS, settings: SHARED_SETTINGS }),
    startZooraft(),
  ]);
  if (zk.status === 'rejected' || zr.status === 'rejected') {
    if (zk.status === 'fulfilled') await zk.value.stop();
    if (zr.status === 'fulfilled') await zr.value.stop();
    throw zk.status === 'rejected' ? zk.reason : (zr as PromiseRejectedResult).reason;
  }
  const zkSide: Side = {
    name: 'zookeeper',
    modeOf: (id) => zk.value.modeOf(id),
    waitForLeader: (ms) => zk.value.waitForLeader(ms),
    clientPort: (id) => zk.value.member(id).clientPort,
    portNames: portNames(zk.value.members),
  };
  const zrSide: Side = {
    name: 'zooraft',
    modeOf: (id) => zr.value.modeOf(id),
    waitForLeader: (ms) => zr.value.waitForLeader(ms),
    clientPort: (id) => zr.value.member(id).clientPort,
    portNames: portNames(zr.value.members),
  };
  shared = { zk: zk.value, zr: zr.value, sides: [zkSide, zrSide], windowStartMs };
});

test.after.always(async () => {
  if (shared === null) return;
  await Promise.all([shared.zk.stop(), shared.zr.stop()]);
});

function requireShared(): Shared {
  if (shared === null) throw new Error('the ensembles did not start');
  return shared;
}

/** The lowest-numbered follower, once the side has one leader and only followers otherwise. */
async function pickFollower(side: Side): Promise<{ leader: number; follower: number }> {
  const leader = await side.waitForLeader(LEADER_WAIT_MS);
  for (const id of MEMBER_IDS) {
    if (id !== leader && (await side.modeOf(id)) === 'follower') return { leader, follower: id };
  }
  throw new Error(`${side.name}: no follower besides leader ${leader}`);
}

/** Replaces member port numbers inside node data (bytes:...) by their names. */
function namePorts(results: StepResult[], names: ReadonlyMap<number, string>): StepResult[] {
  const map = (v: unknown): unknown => {
    if (typeof v === 'string') return v.startsWith('bytes:') ? v.replace(/\b\d{4,5}\b/g, (d) => names.get(Number(d)) ?? d) : v;
    if (Array.isArray(v)) return v.map(map);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, map(x)]));
    return v;
  };
  return results.map((r) => ({ label: r.label, obs: map(r.obs) }));
}

interface SideRun {
  results: StepResult[];
  leader: number;
  follower: number;
  /** '' if the same leader leads and the target still follows after the scenario; what changed otherwise. */
  after: string;
}

async function runOnFollower(s: Shared, side: Side, target: Target, leader: number, follower: number, scenario: Scenario): Promise<SideRun> {
  const raw = await runScenario(target, scenario, { windowStartMs: s.windowStartMs, endSessions: true });
  // Asked until the members agree: a busy machine can make one srvr answer late.
  const leaderAfter = await side.waitForLeader(LEADER_WAIT_MS).catch(() => null);
  const modes = await Promise.all(MEMBER_IDS.map((id) => side.modeOf(id)));
  return { results: namePorts(raw, side.portNames), leader, follower, after: leaderAfter === leader && modes[follower - 1] === 'follower' ? '' : `leader ${String(leaderAfter)}, modes ${JSON.stringify(modes)}` };
}

async function runBoth(t: ExecutionContext, s: Shared, scenario: Scenario): Promise<[SideRun, SideRun]> {
  const [zkSide, zrSide] = s.sides;
  const [zkRoles, zrRoles] = await Promise.all([pickFollower(zkSide), pickFollower(zrSide)]);
  const zkAt = { host: HOST, port: zkSide.clientPort(zkRoles.follower) };
  const zrAt = { host: HOST, port: zrSide.clientPort(zrRoles.follower) };
  // Reset through the very followers the scenario uses: their own deletes are applied there
  // before the replies come back, so the check below sees what the scenario will see.
  const [zkState, zrState] = await Promise.all([resetTree(zkAt), resetTree(zrAt)]);
  const padded = await equalizeCounters(zkAt, zkState, zrAt, zrState);
  if (padded !== '') t.log(`system node counters brought level after an earlier mismatch: ${padded}`);
  t.log(
    `zookeeper: leader ${zkRoles.leader}, target follower ${zkRoles.follower}, ${zkState.deleted} nodes reset; ` +
      `zooraft: leader ${zrRoles.leader}, target follower ${zrRoles.follower}, ${zrState.deleted} nodes reset`,
  );
  return Promise.all([
    runOnFollower(s, zkSide, { name: 'zookeeper', ...zkAt }, zkRoles.leader, zkRoles.follower, scenario),
    runOnFollower(s, zrSide, { name: 'zooraft', ...zrAt }, zrRoles.leader, zrRoles.follower, scenario),
  ]);
}

test.serial('ensembles: one leader and two followers on each side', async (t) => {
  const s = requireShared();
  for (const side of s.sides) {
    const { leader } = await pickFollower(side);
    const modes = await Promise.all(MEMBER_IDS.map((id) => side.modeOf(id)));
    t.is(modes.filter((m) => m === 'follower').length, SIZE - 1, `${side.name}: ${JSON.stringify(modes)}`);
    t.is(modes[leader - 1], 'leader', side.name);
  }
});

// The reset on its own: nodes (one with an ACL that allows CREATE only) written on one side, a child
// under /zookeeper, then reset + equalize must leave both trees and counters identical.
test.serial('tree reset: leftovers are deleted and drifted counters brought level', async (t) => {
  const s = requireShared();
  const [zkSide, zrSide] = s.sides;
  const zkAt = { host: HOST, port: zkSide.clientPort((await pickFollower(zkSide)).follower) };
  const zrAt = { host: HOST, port: zrSide.clientPort((await pickFollower(zrSide)).follower) };
  const drift: Scenario = {
    name: 'drift',
    steps: [
      connect('a'),
      // CREATE only: listing and deleting its child take the reset's superuser.
      create('a', '/leak', { acl: [{ perms: 4, id: { scheme: 'world', id: 'anyone' } }] }),
      create('a', '/leak/child'),
      create('a', '/leak-eph', { flags: 1 }),
      create('a', '/zookeeper/leak'),
    ],
  };
  // endSessions false: the ephemeral outlives the scenario, as a dropped client's would.
  await runScenario({ name: 'zookeeper', ...zkAt }, drift);
  const [zkState, zrState] = await Promise.all([resetTree(zkAt), resetTree(zrAt)]);
  t.is(zkState.deleted, 4);
  t.is(zrState.deleted, 0);
  t.regex(await equalizeCounters(zkAt, zkState, zrAt, zrState), /^\/ on .* by 4, \/zookeeper on .* by 2$/);
  const [zkAfter, zrAfter] = await Promise.all([resetTree(zkAt), resetTree(zrAt)]);
  t.deepEqual(zkAfter, zrAfter);
});

// Serial: the scenarios share the two ensembles.
for (const scenario of SCENARIOS) {
  test.serial(`ensemble differential: ${scenario.name}`, async (t) => {
    const s = requireShared();
    const [zkRun, zrRun] = await runBoth(t, s, scenario);
    // Sanity: the oracle itself must have answered every step (no timeouts, no lost connections).
    t.deepEqual(oracleFailures(zkRun.results), [], 'ZooKeeper itself failed a step: the scenario is wrong');
    const verdict = judge(scenario.name, zkRun.results, zrRun.results);
    if (verdict.applied.length > 0) t.log(`allowed differences applied:\n  ${verdict.applied.join('\n  ')}`);
    // A leader change during the scenario would explain odd replies: say so next to them.
    const moved = [zkRun, zrRun]
      .map((r, i) => (r.after === '' ? '' : `${s.sides[i]?.name ?? '?'}: leader ${r.leader} and follower ${r.follower} before, ${r.after} after`))
      .filter((x) => x !== '');
    t.deepEqual(moved, [], 'leadership changed during the scenario');
    // Compared as text so a failure prints both sides' values, step by step.
    t.is(verdict.mismatchReport, '', `${verdict.mismatchCount} step(s) differ`);
  });
}
