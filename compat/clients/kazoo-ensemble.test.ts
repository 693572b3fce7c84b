// Python kazoo (Debian python3-kazoo), a stock client, against a 3-member zooraft ensemble
// while its leader is killed (kill -9): kazoo sees SUSPENDED then CONNECTED, never LOST, keeps
// its session, its Lock and its ephemeral node, and goes on working with its own retry
// (compat/clients/kazoo_ensemble_flow.py).
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { ZooraftEnsemble } from '../../test/helpers/ensemble.js';
import { CLIENTS_SRC_DIR, TOOLS, requireTool } from './run.js';

interface Done {
  phase: 'done';
  same_session: boolean;
  states: string[];
  members: string[];
  lock_held: boolean;
  contenders: string[];
  after: string;
}

test('kazoo keeps its session, lock and ephemeral node across the leader\'s kill -9', async (t) => {
  const python = requireTool(TOOLS.python3, 'python3-kazoo');
  // tickTime 2000 as in a real deployment: kazoo's 20 s session timeout is allowed.
  const ensemble = await ZooraftEnsemble.start({ tickTimeMs: 2000, settings: { '4lw.commands.whitelist': '*' } });
  const child = spawn(python, [path.join(CLIENTS_SRC_DIR, 'kazoo_ensemble_flow.py'), ensemble.connectString()], { stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
  try {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const lines: string[] = [];
    let wake: (() => void) | null = null;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const parts = stdout.split('\n');
      stdout = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.trim() !== ''));
      wake?.();
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const nextLine = async (): Promise<string> => {
      while (lines.length === 0) {
        if (child.exitCode !== null) throw new Error(`kazoo flow exited early (${child.exitCode}):\n${stderr}`);
        await Promise.race([new Promise<void>((r) => (wake = r)), exited]);
      }
      return lines.shift() as string;
    };
    const leader = await ensemble.waitForLeader();
    const ready = JSON.parse(await nextLine()) as { phase: string; states: string[] };
    t.is(ready.phase, 'ready');
    t.deepEqual(ready.states, ['CONNECTED'], 'connected once, before the leader is killed');
    await ensemble.killMember(leader);
    child.stdin.write('go\n');
    const done = JSON.parse(await nextLine()) as Done;
    t.is(await exited, 0, stderr);
    t.true(done.same_session, 'the session survived the leader change');
    t.true(done.states.includes('SUSPENDED'), `kazoo saw the connection drop: ${done.states.join(',')}`);
    t.false(done.states.includes('LOST'), `the session was never lost: ${done.states.join(',')}`);
    t.is(done.states.at(-1), 'CONNECTED');
    t.is(done.members.length, 1, 'the ephemeral member node is still there');
    t.true(done.lock_held);
    t.deepEqual(done.contenders, ['worker-1']);
    t.is(done.after, 'y');
    const newLeader = await ensemble.waitForLeader();
    t.not(newLeader, leader);
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
    await ensemble.stop();
  }
});
