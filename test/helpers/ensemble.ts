// A real zooraft ensemble for tests: N processes of the bundled CLI on free ports, each with
// its own data folder and myid, configured with the same server.N lines as a ZooKeeper
// ensemble. Members can be stopped, killed (-9) and restarted; stop() ends them all.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fourLetterWord, pickFreePorts } from '../../compat/zookeeper-process.js';
import { ZooraftProcess } from './zooraft-process.js';

export interface EnsembleMemberState {
  id: number;
  dataDir: string;
  clientPort: number;
  /** The server.N ports: Raft's, and the election port zooraft accepts and ignores. */
  quorumPort: number;
  electionPort: number;
  process: ZooraftProcess | null;
}

export interface EnsembleOptions {
  size?: number;
  tickTimeMs?: number;
  /** Extra zoo.cfg keys for every member. */
  settings?: Record<string, string>;
}

const HOST = '127.0.0.1';

const START_ATTEMPTS = 3;

export class ZooraftEnsemble {
  readonly members: EnsembleMemberState[];
  private readonly settings: Record<string, string>;
  private readonly tickTimeMs: number;

  private constructor(members: EnsembleMemberState[], settings: Record<string, string>, tickTimeMs: number) {
    this.members = members;
    this.settings = settings;
    this.tickTimeMs = tickTimeMs;
  }

  /**
   * Another process can take a picked port before a member binds it; that is the only failure
   * worth another try, on new ports.
   */
  static async start(opts: EnsembleOptions = {}): Promise<ZooraftEnsemble> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ZooraftEnsemble.startOnce(opts);
      } catch (e) {
        if (attempt >= START_ATTEMPTS || !(e instanceof Error) || !e.message.includes('already in use')) throw e;
      }
    }
  }

  private static async startOnce(opts: EnsembleOptions): Promise<ZooraftEnsemble> {
    const size = opts.size ?? 3;
    const settings: Record<string, string> = { '4lw.commands.whitelist': '*', ...opts.settings };
    const members: EnsembleMemberState[] = [];
    // Distinct: independent picks can return the same port, and a member then collides with itself.
    const ports = await pickFreePorts(size * 3);
    const nextPort = (): number => ports.pop() as number;
    for (let id = 1; id <= size; id++) {
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `zooraft-ensemble-${id}-`));
      await fs.writeFile(path.join(dataDir, 'myid'), `${id}\n`);
      const quorumPort = nextPort();
      const electionPort = nextPort();
      settings[`server.${id}`] = `${HOST}:${quorumPort}:${electionPort}`;
      members.push({ id, dataDir, clientPort: nextPort(), quorumPort, electionPort, process: null });
    }
    const ensemble = new ZooraftEnsemble(members, settings, opts.tickTimeMs ?? 200);
    // allSettled, not all: stopping while a member is still starting would orphan it.
    const started = await Promise.allSettled(members.map((m) => ensemble.startMember(m.id)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await ensemble.stop();
      throw failed.reason;
    }
    return ensemble;
  }

  member(id: number): EnsembleMemberState {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  connectString(ids: readonly number[] = this.members.map((m) => m.id)): string {
    return ids.map((id) => `${HOST}:${this.member(id).clientPort}`).join(',');
  }

  async startMember(id: number): Promise<void> {
    const m = this.member(id);
    m.process = await ZooraftProcess.start({ dataDir: m.dataDir, port: m.clientPort, tickTimeMs: this.tickTimeMs, settings: this.settings });
  }

  async stopMember(id: number): Promise<void> {
    const m = this.member(id);
    await m.process?.stop();
    m.process = null;
  }

  async killMember(id: number): Promise<void> {
    const m = this.member(id);
    await m.process?.kill();
    m.process = null;
  }

  /** srvr's Mode line of a running member, or null while it serves nobody. */
  async modeOf(id: number): Promise<string | null> {
    const text = await fourLetterWord(HOST, this.member(id).clientPort, 'srvr').catch(() => '');
    const match = /^Mode: (\w+)/m.exec(text);
    return match?.[1] ?? null;
  }

  /** Waits until the running members report one leader and the rest followers. */
  async waitForLeader(timeoutMs = 15000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let modes: Array<[number, string | null]> = [];
    while (Date.now() < deadline) {
      const running = this.members.filter((m) => m.process !== null);
      modes = await Promise.all(running.map(async (m): Promise<[number, string | null]> => [m.id, await this.modeOf(m.id)]));
      const leaders = modes.filter(([, mode]) => mode === 'leader');
      if (leaders.length === 1 && modes.every(([, mode]) => mode === 'leader' || mode === 'follower')) return (leaders[0] as [number, string])[0];
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no single leader within ${timeoutMs} ms: ${JSON.stringify(modes)}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stopMember(m.id)));
    await Promise.all(this.members.map((m) => fs.rm(m.dataDir, { recursive: true, force: true })));
  }
}
