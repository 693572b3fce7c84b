// Runs the ZooKeeper state machine (Prep + DataTree + WatchManager) from plain-text scenario
// files, with no sockets, timers or disk. Each command line is followed by the lines it
// printed, prefixed "> ". Run with ZOORAFT_REWRITE=1 to rewrite the expected lines.
//
// Commands (a session is named by a word; ids are assigned 1, 2, ...):
//   session S [timeoutMs]              createSession
//   close S                            closeSession
//   auth S user:password               add a digest id to S
//   create S PATH [DATA] [flags=N] [op=create|create2|container|ttl] [ttl=N] [acl=open|read|creator]
//   delete S PATH [version=N]
//   set S PATH DATA [version=N]
//   setacl S PATH open|read|creator [version=N]
//   multi S OP ; OP ; ...             ops: create PATH [DATA] [flags=N] | delete PATH [version=N] | set PATH DATA [version=N] | check PATH version=N
//   hold                               later writes are prepared but not applied ...
//   release                            ... until release applies them in order (outstanding changes)
//   stat PATH | get PATH | ls PATH | ephemerals S
//   watch S data|child|persistent|recursive PATH
//   tick                               advance the txn clock by 1000 ms
import { OpCode, ErrorCode, Perms } from '../../wire/index.js';
import type { ACL, MultiOp } from '../../wire/index.js';
import { digestId, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from '../../src/core/acl.js';
import type { AuthIds } from '../../src/core/acl.js';
import { Prep } from '../../src/core/prep.js';
import type { WriteRequest } from '../../src/core/prep.js';
import { DataTree, statOf } from '../../src/core/tree.js';
import type { OpResult } from '../../src/core/tree.js';
import type { TxnEntry } from '../../src/core/txn.js';
import { WatchManager } from '../../src/core/watches.js';
import type { Watcher } from '../../src/core/watches.js';
import { hasPermission } from '../../src/core/acl.js';

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));
const EVENT_NAMES = new Map<number, string>([
  [1, 'NodeCreated'],
  [2, 'NodeDeleted'],
  [3, 'NodeDataChanged'],
  [4, 'NodeChildrenChanged'],
]);

interface Session {
  id: bigint;
  name: string;
  auth: AuthIds & { ids: Array<{ scheme: string; id: string }> };
  watcher: Watcher;
}

export class ScenarioMachine {
  readonly tree = new DataTree();
  readonly prep = new Prep(this.tree, { extendedTypesEnabled: true, skipACL: false });
  readonly watches = new WatchManager();
  private readonly sessions = new Map<string, Session>();
  private nextSession = 1n;
  private zxid = 0;
  private timeMs = 1_000_000;
  private held: Array<{ entry: TxnEntry; label: string }> | null = null;
  private out: string[] = [];

  run(line: string): string[] {
    this.out = [];
    const words = line.trim().split(/\s+/);
    const cmd = words[0] ?? '';
    const args = words.slice(1);
    switch (cmd) {
      case 'session':
        this.newSession(args[0] ?? 's', Number(args[1] ?? 30000));
        break;
      case 'close':
        this.write(this.session(args[0]), { opcode: OpCode.closeSession }, 'close');
        break;
      case 'auth':
        this.session(args[0]).auth.ids.push({ scheme: 'digest', id: digestId(args[1] ?? '') });
        break;
      case 'create':
      case 'delete':
      case 'set':
      case 'setacl':
        this.write(this.session(args[0]), this.parseOp(cmd, args.slice(1)), cmd);
        break;
      case 'multi': {
        const s = this.session(args[0]);
        const ops = args.slice(1).join(' ').split(';').map((part) => this.parseMultiOp(part.trim().split(/\s+/)));
        this.write(s, { opcode: OpCode.multi, ops }, 'multi');
        break;
      }
      case 'hold':
        this.held = [];
        break;
      case 'release': {
        const held = this.held ?? [];
        this.held = null;
        for (const h of held) this.apply(h.entry, h.label);
        break;
      }
      case 'tick':
        this.timeMs += 1000;
        break;
      case 'stat':
      case 'get':
      case 'ls':
        this.read(cmd, args[0] ?? '/');
        break;
      case 'ephemerals':
        this.out.push([...(this.tree.ephemerals.get(this.session(args[0]).id) ?? [])].sort().join(' ') || '(none)');
        break;
      case 'watch':
        this.watch(this.session(args[0]), args[1] ?? 'data', args[2] ?? '/');
        break;
      default:
        throw new Error(`unknown scenario command: ${line}`);
    }
    return this.out;
  }

  private session(name: string | undefined): Session {
    const s = this.sessions.get(name ?? '');
    if (s === undefined) throw new Error(`no session named ${String(name)}`);
    return s;
  }

  private newSession(name: string, timeoutMs: number): void {
    const id = this.nextSession++;
    const watcher: Watcher = {
      sessionId: id,
      deliver: (type, path) => this.out.push(`event ${name} ${EVENT_NAMES.get(type) ?? String(type)} ${path}`),
      mayRead: (acl) => hasPermission(acl, Perms.READ, session.auth),
    };
    const session: Session = { id, name, auth: { ids: [{ scheme: 'ip', id: '127.0.0.1' }] }, watcher };
    this.sessions.set(name, session);
    this.write(session, { opcode: OpCode.createSession, sessionId: id, timeoutMs, passwd: Buffer.alloc(16) }, 'session');
  }

  private acl(name: string): ACL[] {
    if (name === 'read') return [...READ_ACL_UNSAFE];
    if (name === 'creator') return [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }];
    return [...OPEN_ACL_UNSAFE];
  }

  private options(words: string[]): { positional: string[]; opts: Map<string, string> } {
    const positional: string[] = [];
    const opts = new Map<string, string>();
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq > 0) opts.set(w.slice(0, eq), w.slice(eq + 1));
      else positional.push(w);
    }
    return { positional, opts };
  }

  private parseOp(cmd: string, words: string[]): WriteRequest {
    const { positional, opts } = this.options(words);
    const path = positional[0] ?? '/';
    const version = Number(opts.get('version') ?? -1);
    const data = positional[1] === undefined ? null : Buffer.from(positional[1] === '-' ? '' : positional[1]);
    switch (cmd) {
      case 'create': {
        const op = opts.get('op') ?? 'create2';
        const opcode = op === 'create' ? OpCode.create : op === 'container' ? OpCode.createContainer : op === 'ttl' ? OpCode.createTTL : OpCode.create2;
        return {
          opcode,
          req: { path, data, acl: this.acl(opts.get('acl') ?? 'open'), flags: Number(opts.get('flags') ?? 0), ttl: BigInt(opts.get('ttl') ?? -1) },
        };
      }
      case 'delete':
        return { opcode: OpCode.delete, req: { path, version } };
      case 'set':
        return { opcode: OpCode.setData, req: { path, data, version } };
      default:
        return { opcode: OpCode.setACL, req: { path, acl: this.acl(positional[1] ?? 'open'), version } };
    }
  }

  private parseMultiOp(words: string[]): MultiOp {
    const [kind, ...rest] = words;
    const { positional, opts } = this.options(rest);
    const path = positional[0] ?? '/';
    const version = Number(opts.get('version') ?? -1);
    const data = positional[1] === undefined ? null : Buffer.from(positional[1]);
    switch (kind) {
      case 'create':
        return { type: OpCode.create, req: { path, data, acl: [...OPEN_ACL_UNSAFE], flags: Number(opts.get('flags') ?? 0) } };
      case 'delete':
        return { type: OpCode.delete, req: { path, version } };
      case 'set':
        return { type: OpCode.setData, req: { path, data, version } };
      case 'check':
        return { type: OpCode.check, req: { path, version } };
      default:
        throw new Error(`unknown multi op ${String(kind)}`);
    }
  }

  private write(s: Session, request: WriteRequest, label: string): void {
    const zxid = ++this.zxid;
    const txn = this.prep.prepare(request, s.id, s.auth, zxid);
    const entry: TxnEntry = { header: { sessionId: s.id, cxid: zxid, zxid, timeMs: this.timeMs }, txn };
    if (this.held !== null) {
      this.held.push({ entry, label });
      this.out.push(`held zxid=${zxid}`);
      return;
    }
    this.apply(entry, label);
  }

  private apply(entry: TxnEntry, label: string): void {
    const outcome = this.tree.apply(entry);
    this.prep.applied(outcome.zxid);
    this.watches.triggerAll(outcome.triggers);
    this.out.push(`${label} zxid=${outcome.zxid} ${describe(outcome.result)}`);
  }

  private read(cmd: string, path: string): void {
    const node = this.tree.get(path);
    if (node === undefined) {
      this.out.push('NoNode');
      return;
    }
    if (cmd === 'ls') this.out.push(node.childNames().sort().join(' ') || '(none)');
    else if (cmd === 'get') this.out.push(node.data === null ? '(null)' : JSON.stringify(node.data.toString('utf8')));
    else this.out.push(statLine(statOf(node)));
  }

  private watch(s: Session, kind: string, path: string): void {
    if (kind === 'child') this.watches.addChild(path, s.watcher);
    else if (kind === 'persistent') this.watches.addPersistent(path, s.watcher, false);
    else if (kind === 'recursive') this.watches.addPersistent(path, s.watcher, true);
    else this.watches.addData(path, s.watcher);
  }
}

function statLine(s: ReturnType<typeof statOf>): string {
  return `czxid=${s.czxid} mzxid=${s.mzxid} pzxid=${s.pzxid} version=${s.version} cversion=${s.cversion} aversion=${s.aversion} owner=${s.ephemeralOwner} dataLength=${s.dataLength} numChildren=${s.numChildren}`;
}

function describe(r: OpResult): string {
  switch (r.kind) {
    case 'create':
      return `ok ${r.path}`;
    case 'setData':
    case 'setACL':
      return `ok version=${r.stat.version} aversion=${r.stat.aversion}`;
    case 'error':
      return ERROR_NAMES.get(r.err) ?? `err ${r.err}`;
    case 'multi':
      return `[${r.results.map(describe).join(', ')}]`;
    default:
      return 'ok';
  }
}

/** Runs a scenario text; returns the text with every command's output re-derived. */
export function runScenario(text: string): string {
  const machine = new ScenarioMachine();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('> ')) continue;
    out.push(line);
    if (line.trim() === '' || line.startsWith('#')) continue;
    for (const o of machine.run(line)) out.push(`> ${o}`);
  }
  return out.join('\n');
}
